<#
.SYNOPSIS
    Prepares a Windows test machine (a VM) to load the test-signed rsmailslot.sys.
.DESCRIPTION
    Turns test signing on for the next boot (bcdedit /set testsigning on), trusts the package's
    test certificate (rsmailslot.cer) in LocalMachine\Root and LocalMachine\TrustedPublisher,
    and creates a machine-local code-signing certificate, trusted the same way, with which
    Install-Driver.ps1 signs the catalog it makes for the package. Test signing takes effect
    after a restart; the script offers one (or restarts at once with -Restart).

    Test signing cannot be turned on while Secure Boot is on: the script stops and says so.
    When BitLocker protects the system drive it warns first: the changed boot configuration
    makes the next boot ask for the recovery key unless protection is suspended.
    Run it elevated, on a test machine only: it lowers the machine's driver-signing policy.
.PARAMETER CertificatePath
    The package's test certificate (DER). Default: rsmailslot.cer beside this script, else in
    ..\target\package.
.PARAMETER Restart
    Restart the machine at the end without asking, when test signing was not yet in force.
.PARAMETER Force
    Do not ask before restarting (same as -Restart) and do not ask for confirmation.
.EXAMPLE
    .\Enable-TestSigning.ps1 -CertificatePath C:\rsmailslot\package\rsmailslot.cer -WhatIf
    Shows what would change, changes nothing.
.EXAMPLE
    .\Enable-TestSigning.ps1 -CertificatePath C:\rsmailslot\package\rsmailslot.cer -Restart
.NOTES
    Undo: bcdedit /set testsigning off, then remove the certificates with
    Uninstall-Driver.ps1 -RemoveTestCertificates.
#>
[CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
param(
    [string] $CertificatePath,
    [switch] $Restart,
    [switch] $Force
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'RsMailslot.Common.psm1') -Force
$names = Get-RsMailslotName

Assert-Administrator

if (-not $CertificatePath) {
    $candidates = @(
        (Join-Path -Path $PSScriptRoot -ChildPath 'rsmailslot.cer'),
        (Join-Path -Path $PSScriptRoot -ChildPath '..\target\package\rsmailslot.cer'),
        (Join-Path -Path $PSScriptRoot -ChildPath '..\package\rsmailslot.cer')
    )
    $CertificatePath = $candidates | Where-Object { Test-Path -LiteralPath $_ -PathType Leaf } | Select-Object -First 1
    if (-not $CertificatePath) {
        throw "No rsmailslot.cer found beside this script or in ..\target\package: pass -CertificatePath (the package built by tools/build-driver.sh contains it)."
    }
}
if (-not (Test-Path -LiteralPath $CertificatePath -PathType Leaf)) {
    throw "Certificate '$CertificatePath' not found."
}

# Secure Boot forbids test signing; bcdedit would fail with a less helpful message.
$secureBoot = $false
try {
    $secureBoot = Confirm-SecureBootUEFI
} catch [System.PlatformNotSupportedException] {
    $secureBoot = $false    # BIOS firmware: no Secure Boot.
} catch [System.UnauthorizedAccessException] {
    throw 'Could not read the Secure Boot state: run elevated.'
}
if ($secureBoot) {
    throw 'Secure Boot is on, and Windows refuses test signing while it is. Turn it off in the firmware (Hyper-V: Set-VMFirmware -VMName <name> -EnableSecureBoot Off, with the VM off), then run this again.'
}

# Changing the boot configuration makes BitLocker ask for its recovery key at the next boot
# unless protection is suspended for it.
$bitLocker = Get-Command -Name Get-BitLockerVolume -ErrorAction SilentlyContinue
if ($bitLocker -and -not (Test-TestSigningConfigured)) {
    $volume = Get-BitLockerVolume -MountPoint $env:SystemDrive -ErrorAction SilentlyContinue
    if ($volume -and [string]$volume.ProtectionStatus -eq 'On') {
        Write-Warning "BitLocker protects $($env:SystemDrive): changing test signing will make the next boot ask for the recovery key. Suspend it for one restart first: Suspend-BitLocker -MountPoint $($env:SystemDrive) -RebootCount 1"
    }
}

$wasActive = Test-TestSigningActive
if (Test-TestSigningConfigured) {
    Write-Host 'Test signing is already set for the next boot.'
} elseif ($PSCmdlet.ShouldProcess('boot configuration {current}', 'bcdedit /set testsigning on')) {
    $out = & bcdedit.exe /set '{current}' testsigning on 2>&1 | Out-String
    if ($LASTEXITCODE -ne 0) {
        throw "bcdedit /set testsigning on failed: $out"
    }
    Write-Host 'Test signing set for the next boot.'
}

function Add-TrustedCertificate {
    param([string] $Path, [string] $Thumbprint, [string] $What)
    foreach ($store in 'Root', 'TrustedPublisher') {
        $location = "Cert:\LocalMachine\$store"
        if (Get-ChildItem -Path $location | Where-Object Thumbprint -EQ $Thumbprint) {
            Write-Host "$What is already in LocalMachine\$store."
        } elseif ($PSCmdlet.ShouldProcess("LocalMachine\$store", "trust $What ($Thumbprint)")) {
            Import-Certificate -FilePath $Path -CertStoreLocation $location | Out-Null
            Write-Host "$What added to LocalMachine\$store."
        }
    }
}

$packageCert = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new((Resolve-Path -LiteralPath $CertificatePath).ProviderPath)
Add-TrustedCertificate -Path $CertificatePath -Thumbprint $packageCert.Thumbprint -What "the package's test certificate ($($packageCert.Subject))"

# The catalog Install-Driver.ps1 makes on this machine needs a signer this machine trusts;
# a certificate made here keeps the package's private key off the VM.
$signer = Get-ChildItem -Path 'Cert:\LocalMachine\My' -CodeSigningCert |
    Where-Object Subject -EQ $names.CatalogSigner | Select-Object -First 1
if (-not $signer -and $PSCmdlet.ShouldProcess('LocalMachine\My', "create the code-signing certificate '$($names.CatalogSigner)'")) {
    $signer = New-SelfSignedCertificate -Type CodeSigningCert -Subject $names.CatalogSigner `
        -CertStoreLocation 'Cert:\LocalMachine\My' -KeyAlgorithm RSA -KeyLength 3072 `
        -HashAlgorithm SHA256 -NotAfter (Get-Date).AddYears(5)
    Write-Host "Created the local catalog-signing certificate $($signer.Thumbprint)."
}
if ($signer) {
    $exported = Join-Path -Path ([IO.Path]::GetTempPath()) -ChildPath 'rsmailslot-catalog-signer.cer'
    Export-Certificate -Cert $signer -FilePath $exported -Type CERT | Out-Null
    Add-TrustedCertificate -Path $exported -Thumbprint $signer.Thumbprint -What 'the local catalog-signing certificate'
    Remove-Item -LiteralPath $exported
}

if ($wasActive) {
    Write-Host 'Test signing is in force; no restart needed.'
} elseif ($Restart -or $Force) {
    if ($PSCmdlet.ShouldProcess($env:COMPUTERNAME, 'restart to put test signing in force')) {
        Restart-Computer -Force
    }
} elseif (-not $WhatIfPreference -and $PSCmdlet.ShouldContinue('Restart now to put test signing in force?', 'Restart required')) {
    Restart-Computer -Force
} else {
    Write-Warning 'Restart the machine to put test signing in force (the desktop then shows "Test Mode").'
}
