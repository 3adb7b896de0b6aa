<#
.SYNOPSIS
    Stops and removes rsmailslot: the service, its driver-store package and its files.
.DESCRIPTION
    Stops the RsMailslot service (mailslot handles still open keep the driver loaded: close
    the programs using it first), deletes every driver-store package that came from
    rsmailslot.inf with pnputil /delete-driver <oemNN.inf> /uninstall, then checks that
    nothing is left: no service, no package in the driver store, no rsmailslot.sys in
    System32\drivers. A service left behind by an older Windows that does not manage primitive
    drivers is deleted with sc.exe delete.

    With -RemoveTestCertificates it also removes the certificates Enable-TestSigning.ps1
    trusted or created. Test signing itself stays on (bcdedit /set testsigning off undoes it).
.PARAMETER RemoveTestCertificates
    Also remove the package's test certificate (give -CertificatePath) and the local
    catalog-signing certificate from LocalMachine\Root, TrustedPublisher and My.
.PARAMETER CertificatePath
    The package's rsmailslot.cer, to find its thumbprint for -RemoveTestCertificates. Without
    it, the certificates whose subject is the test certificate's (CN=rsmailslot test signing)
    are removed from LocalMachine\Root and TrustedPublisher.
.EXAMPLE
    .\Uninstall-Driver.ps1
.EXAMPLE
    .\Uninstall-Driver.ps1 -RemoveTestCertificates -CertificatePath C:\rsmailslot\package\rsmailslot.cer -WhatIf
#>
[CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
param(
    [switch] $RemoveTestCertificates,
    [string] $CertificatePath
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'RsMailslot.Common.psm1') -Force
$names = Get-RsMailslotName

Assert-Administrator

$service = Get-RsMailslotService
if ($service -and $service.State -ne 'Stopped' -and $PSCmdlet.ShouldProcess($names.Service, 'stop the service')) {
    & sc.exe stop $names.Service | Out-Null
    if (-not (Wait-ServiceState -State 'Stopped')) {
        throw "$($names.Service) did not stop: a program still holds a mailslot handle under \\.\RsMailslot\. Close it (or restart) and run this again."
    }
}

foreach ($package in @(Get-RsMailslotDriverPackage)) {
    if ($PSCmdlet.ShouldProcess($package.Driver, 'pnputil /delete-driver /uninstall')) {
        $out = & pnputil.exe /delete-driver $package.Driver /uninstall /force 2>&1 | Out-String
        if ($LASTEXITCODE -ne 0 -and $LASTEXITCODE -ne 3010) {
            throw "pnputil /delete-driver $($package.Driver) failed (exit $LASTEXITCODE): $out"
        }
        Write-Host $out.Trim()
    }
}

# pnputil removes the service a primitive driver's package added; one left by an older package
# or a manual sc create is removed here so that nothing stays behind.
if ((Get-RsMailslotService) -and $PSCmdlet.ShouldProcess($names.Service, 'sc.exe delete')) {
    $out = & sc.exe delete $names.Service 2>&1 | Out-String
    if ($LASTEXITCODE -ne 0) {
        throw "sc.exe delete $($names.Service) failed: $out"
    }
}

if ($RemoveTestCertificates) {
    $thumbprints = @()
    if ($CertificatePath) {
        $thumbprints += [System.Security.Cryptography.X509Certificates.X509Certificate2]::new((Resolve-Path -LiteralPath $CertificatePath).ProviderPath).Thumbprint
    } else {
        # Without the .cer, the test certificate is found by the subject build-driver.sh gives it.
        foreach ($store in 'Root', 'TrustedPublisher') {
            $thumbprints += @(Get-ChildItem -Path "Cert:\LocalMachine\$store" | Where-Object Subject -EQ $names.TestCertificate | ForEach-Object Thumbprint)
        }
        if ($thumbprints.Count -eq 0) {
            Write-Warning "No certificate with subject '$($names.TestCertificate)' is trusted on this machine."
        }
    }
    $thumbprints += @(Get-ChildItem -Path 'Cert:\LocalMachine\My' | Where-Object Subject -EQ $names.CatalogSigner | ForEach-Object Thumbprint)
    foreach ($store in 'Root', 'TrustedPublisher', 'My') {
        foreach ($cert in @(Get-ChildItem -Path "Cert:\LocalMachine\$store" | Where-Object { $thumbprints -contains $_.Thumbprint })) {
            if ($PSCmdlet.ShouldProcess("LocalMachine\$store", "remove certificate $($cert.Subject) ($($cert.Thumbprint))")) {
                Remove-Item -LiteralPath $cert.PSPath
            }
        }
    }
}

if (-not $WhatIfPreference) {
    $left = @()
    if (Get-RsMailslotService) { $left += "the $($names.Service) service" }
    if (@(Get-RsMailslotDriverPackage).Count -gt 0) { $left += 'a driver-store package from rsmailslot.inf' }
    if (Test-Path -LiteralPath (Join-Path -Path $env:SystemRoot -ChildPath "System32\drivers\$($names.Sys)")) {
        $left += "System32\drivers\$($names.Sys)"
    }
    if ($left.Count -gt 0) {
        throw "Uninstall incomplete, still present: $($left -join '; '). A restart may be needed if the driver was still loaded."
    }
    Write-Host 'rsmailslot is uninstalled: no service, no driver-store package, no driver file.'
}
