<#
.SYNOPSIS
    Helpers shared by the rsmailslot scripts: prerequisite checks that fail early with a clear
    message, and the facts about the installed driver that several scripts report.
.DESCRIPTION
    Imported by Enable-TestSigning.ps1, Install-Driver.ps1, Uninstall-Driver.ps1,
    Deploy-VM.ps1 and Collect-Diagnostics.ps1 from the same folder. Nothing here changes the
    machine.
#>

Set-StrictMode -Version Latest

# The names the INF and the driver use; one place, so every script agrees.
$script:ServiceName = 'RsMailslot'
$script:InfName = 'rsmailslot.inf'
$script:SysName = 'rsmailslot.sys'
$script:CatalogName = 'rsmailslot.cat'
$script:CatalogSignerSubject = 'CN=rsmailslot local catalog signing'
# The subject tools/build-driver.sh gives the package's test certificate (rsmailslot.cer).
$script:TestCertificateSubject = 'CN=rsmailslot test signing'

function Get-RsMailslotName {
    <#
    .SYNOPSIS
        The service, INF, driver, catalog, local catalog-signer and test-certificate names, as
        one object.
    #>
    [CmdletBinding()]
    param()
    [pscustomobject]@{
        Service       = $script:ServiceName
        Inf           = $script:InfName
        Sys           = $script:SysName
        Catalog       = $script:CatalogName
        CatalogSigner = $script:CatalogSignerSubject
        TestCertificate = $script:TestCertificateSubject
    }
}

function Test-Administrator {
    <#
    .SYNOPSIS
        True when the current PowerShell runs elevated.
    #>
    [CmdletBinding()]
    param()
    $identity = [Security.Principal.WindowsIdentity]::GetCurrent()
    $principal = [Security.Principal.WindowsPrincipal]::new($identity)
    $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
}

function Assert-Administrator {
    <#
    .SYNOPSIS
        Stops with a clear message unless the current PowerShell runs elevated.
    #>
    [CmdletBinding()]
    param()
    if (-not (Test-Administrator)) {
        throw 'This script changes drivers and boot settings: run it from an elevated PowerShell (Run as administrator).'
    }
}

function Test-TestSigningActive {
    <#
    .SYNOPSIS
        True when the running system booted with test signing on.
    .DESCRIPTION
        bcdedit shows the setting for the next boot; the options the kernel was started with
        (SystemStartOptions) show whether it is in force now.
    #>
    [CmdletBinding()]
    param()
    $options = (Get-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Control' -Name SystemStartOptions).SystemStartOptions
    return ($options -match '\bTESTSIGNING\b')
}

function Test-TestSigningConfigured {
    <#
    .SYNOPSIS
        True when the boot entry in use has testsigning set for the next boot.
    #>
    [CmdletBinding()]
    param()
    $text = & bcdedit.exe /enum '{current}' 2>&1 | Out-String
    if ($LASTEXITCODE -ne 0) {
        throw "bcdedit /enum {current} failed: $text"
    }
    return ($text -match '(?im)^\s*testsigning\s+(Yes|On)\s*$')
}

function Assert-TestSigningActive {
    <#
    .SYNOPSIS
        Stops with the way out unless test signing is in force now.
    #>
    [CmdletBinding()]
    param()
    if (-not (Test-TestSigningActive)) {
        if (Test-TestSigningConfigured) {
            throw 'Test signing is set but not active yet: restart the machine, then run this script again.'
        }
        throw 'Test signing is off, so Windows will not load the test-signed rsmailslot.sys: run Enable-TestSigning.ps1 (elevated) and restart.'
    }
}

function Resolve-PackageFile {
    <#
    .SYNOPSIS
        The full path of a file of the driver package, or a clear error naming what is missing.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $PackagePath,
        [Parameter(Mandatory)] [string] $Name
    )
    $path = Join-Path -Path $PackagePath -ChildPath $Name
    if (-not (Test-Path -LiteralPath $path -PathType Leaf)) {
        throw "The package folder '$PackagePath' has no $Name. Build it with tools/build-driver.sh (it writes target/package/) and pass that folder as -PackagePath."
    }
    (Resolve-Path -LiteralPath $path).ProviderPath
}

function Test-CertificateTrusted {
    <#
    .SYNOPSIS
        True when a certificate (by thumbprint) is in both LocalMachine\Root and
        LocalMachine\TrustedPublisher, as a test-signed driver needs.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [string] $Thumbprint)
    foreach ($store in 'Root', 'TrustedPublisher') {
        if (-not (Get-ChildItem -Path "Cert:\LocalMachine\$store" | Where-Object Thumbprint -EQ $Thumbprint)) {
            return $false
        }
    }
    return $true
}

function Get-RsMailslotDriverPackage {
    <#
    .SYNOPSIS
        The driver-store entries (oemNN.inf) that came from rsmailslot.inf.
    .DESCRIPTION
        Reads DISM's list rather than pnputil's text, which Windows localizes.
    #>
    [CmdletBinding()]
    param()
    Get-WindowsDriver -Online | Where-Object {
        $_.OriginalFileName -and ((Split-Path -Path $_.OriginalFileName -Leaf) -eq $script:InfName)
    }
}

function Get-RsMailslotService {
    <#
    .SYNOPSIS
        The RsMailslot kernel service (Win32_SystemDriver), or nothing when it is not installed.
    #>
    [CmdletBinding()]
    param()
    Get-CimInstance -ClassName Win32_SystemDriver -Filter "Name='$script:ServiceName'"
}

function Wait-ServiceState {
    <#
    .SYNOPSIS
        Waits until the service reaches a state (Running, Stopped) or the time runs out.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $State,
        [int] $Seconds = 15
    )
    $deadline = (Get-Date).AddSeconds($Seconds)
    do {
        $service = Get-RsMailslotService
        if ($service -and $service.State -eq $State) {
            return $true
        }
        Start-Sleep -Milliseconds 250
    } while ((Get-Date) -lt $deadline)
    return $false
}

Export-ModuleMember -Function Get-RsMailslotName, Test-Administrator, Assert-Administrator,
    Test-TestSigningActive, Test-TestSigningConfigured, Assert-TestSigningActive,
    Resolve-PackageFile, Test-CertificateTrusted, Get-RsMailslotDriverPackage,
    Get-RsMailslotService, Wait-ServiceState
