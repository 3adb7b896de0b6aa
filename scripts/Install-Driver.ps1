<#
.SYNOPSIS
    Installs rsmailslot.sys through its INF and starts the RsMailslot service.
.DESCRIPTION
    Checks first, and stops with a clear message when something is missing: an elevated
    PowerShell, test signing in force, the package files, and trust in the certificate that
    signed rsmailslot.sys (Enable-TestSigning.ps1 sets up the last two).

    Driver packages need a signed catalog: tools/build-driver.sh writes rsmailslot.cat, signed
    with the package's test certificate, and the script installs with it. Only with
    -MakeCatalog does it make one here instead (Inf2Cat when the WDK is installed, else
    New-FileCatalog), signed with the machine-local certificate Enable-TestSigning.ps1
    created, replacing the package's. Then it adds and installs the
    package with pnputil /add-driver <inf> /install (the way Windows 10 1903 and later install
    a primitive driver: the binary runs from the driver store), starts the service, and reports
    the service state, the driver-store name and, when usermode-test.exe is in the package, one
    round trip through \\.\RsMailslot\ (the harness's win32.write.round-trip row).
.PARAMETER PackagePath
    The folder written by tools/build-driver.sh (rsmailslot.sys, .inf, .cer, .pdb). Default:
    the folder holding this script's parent's target\package, else the current folder.
.PARAMETER NoStart
    Install without starting the service.
.PARAMETER MakeCatalog
    Make and sign the catalog in this machine (Inf2Cat or New-FileCatalog) instead of using the
    package's rsmailslot.cat.
.EXAMPLE
    .\Install-Driver.ps1 -PackagePath C:\rsmailslot\package
.EXAMPLE
    .\Install-Driver.ps1 -PackagePath C:\rsmailslot\package -WhatIf
    Runs every check and shows each change it would make.
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [string] $PackagePath,
    [switch] $NoStart,
    [switch] $MakeCatalog
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'RsMailslot.Common.psm1') -Force
$names = Get-RsMailslotName

if (-not $PackagePath) {
    $default = Join-Path -Path $PSScriptRoot -ChildPath '..\target\package'
    $PackagePath = if (Test-Path -LiteralPath $default) { $default } else { (Get-Location).ProviderPath }
}

Assert-Administrator
Assert-TestSigningActive
$inf = Resolve-PackageFile -PackagePath $PackagePath -Name $names.Inf
$sys = Resolve-PackageFile -PackagePath $PackagePath -Name $names.Sys

$signature = Get-AuthenticodeSignature -FilePath $sys
if (-not $signature.SignerCertificate) {
    throw "$sys carries no signature: rebuild the package with tools/build-driver.sh, which signs it."
}
if (-not (Test-CertificateTrusted -Thumbprint $signature.SignerCertificate.Thumbprint)) {
    throw "The certificate that signed $($names.Sys) ($($signature.SignerCertificate.Subject), $($signature.SignerCertificate.Thumbprint)) is not trusted here: run Enable-TestSigning.ps1 -CertificatePath $(Join-Path $PackagePath 'rsmailslot.cer')."
}

# tools/build-driver.sh packages a signed catalog; one is made here only when asked for.
$catalog = Join-Path -Path $PackagePath -ChildPath $names.Catalog
if (-not $MakeCatalog -and -not (Test-Path -LiteralPath $catalog)) {
    throw "The package has no $($names.Catalog): rebuild it with tools/build-driver.sh, which writes and signs one, or run this again with -MakeCatalog to make one here."
}
if ($MakeCatalog) {
    $signer = Get-ChildItem -Path 'Cert:\LocalMachine\My' -CodeSigningCert |
        Where-Object Subject -EQ $names.CatalogSigner | Select-Object -First 1
    if (-not $signer) {
        throw "No '$($names.CatalogSigner)' certificate to sign the package catalog with: run Enable-TestSigning.ps1 first."
    }
    if ($PSCmdlet.ShouldProcess($catalog, 'create and sign the package catalog')) {
        Remove-Item -LiteralPath $catalog -Force -ErrorAction SilentlyContinue
        # Inf2Cat on PATH, else the newest in the Windows Kits; its path either way.
        $command = Get-Command -Name Inf2Cat.exe -ErrorAction SilentlyContinue | Select-Object -First 1
        $inf2cat = if ($command) { $command.Source } else { $null }
        if (-not $inf2cat) {
            $inf2cat = Get-ChildItem -Path "${env:ProgramFiles(x86)}\Windows Kits\10\bin\*\x86\Inf2Cat.exe" -ErrorAction SilentlyContinue |
                Sort-Object -Property FullName -Descending | Select-Object -First 1 -ExpandProperty FullName
        }
        if ($inf2cat) {
            # Without the local-time switch: DriverVer carries the build's UTC date, which Inf2Cat checks
            # against UTC by default; against local time it is "tomorrow" west of UTC for part
            # of each day and fails.
            $out = & $inf2cat /driver:$PackagePath /os:10_X64 2>&1 | Out-String
            if ($LASTEXITCODE -ne 0) {
                throw "Inf2Cat failed: $out"
            }
        } else {
            New-FileCatalog -Path $PackagePath -CatalogFilePath $catalog -CatalogVersion 2.0 | Out-Null
        }
        $signed = Set-AuthenticodeSignature -FilePath $catalog -Certificate $signer -HashAlgorithm SHA256
        if ($signed.Status -ne 'Valid') {
            throw "Signing $catalog failed: $($signed.StatusMessage)"
        }
        Write-Host "Catalog $catalog made and signed by $($signer.Subject)."
    }
}

$service = Get-RsMailslotService
if ($service -and $service.State -ne 'Stopped' -and $PSCmdlet.ShouldProcess($names.Service, 'stop the running service before updating it')) {
    & sc.exe stop $names.Service | Out-Null
    if (-not (Wait-ServiceState -State 'Stopped')) {
        throw "The running $($names.Service) service did not stop (open mailslot handles keep it loaded): close the programs using it, or restart, then run this again."
    }
}

if ($PSCmdlet.ShouldProcess($inf, 'pnputil /add-driver /install')) {
    $out = & pnputil.exe /add-driver $inf /install 2>&1 | Out-String
    $code = $LASTEXITCODE
    # 259 (ERROR_NO_MORE_ITEMS): nothing installed, because the driver store already holds a
    # package of this INF whose DriverVer is the same or outranks this one. The same version is
    # this very package (a redeploy): nothing to do. Anything else is another build.
    if ($code -eq 259) {
        $line = Select-String -LiteralPath $inf -Pattern '^\s*DriverVer\s*=\s*(\S+)' | Select-Object -First 1
        $ours = if ($line) { $line.Matches[0].Groups[1].Value } else { 'unknown' }
        $installed = @(Get-RsMailslotDriverPackage | ForEach-Object { "$($_.Driver): $($_.Date.ToString('MM/dd/yyyy', [cultureinfo]::InvariantCulture)),$($_.Version)" })
        $same = @($installed | Where-Object { $_.EndsWith(": $ours") })
        if ($same.Count -gt 0) {
            Write-Warning "pnputil: this package ($ours) is already in the driver store ($($same -join '; ')); nothing to install."
        } else {
            throw "pnputil installed nothing (exit 259): the driver store holds a package of $($names.Inf) that is the same or newer ($($installed -join '; ')) than this one ($ours). Rebuild with tools/build-driver.sh (every build stamps a newer DriverVer), or remove the installed one with Uninstall-Driver.ps1, then run this again."
        }
    } elseif ($code -ne 0 -and $code -ne 3010) {
        # 3010: installed, a restart is needed to finish.
        throw "pnputil /add-driver failed (exit $code): $out"
    }
    Write-Host $out.Trim()
    if ($code -eq 3010) {
        Write-Warning 'pnputil asks for a restart to finish the installation.'
    }
}

if (-not $NoStart -and $PSCmdlet.ShouldProcess($names.Service, 'start the service')) {
    $out = & sc.exe start $names.Service 2>&1 | Out-String
    # 1056: already running.
    if ($LASTEXITCODE -ne 0 -and $LASTEXITCODE -ne 1056) {
        throw "sc.exe start $($names.Service) failed (exit $LASTEXITCODE): $out`nSee README.md, Troubleshooting (577 or 'code 52': signature not trusted; 'code 39': the driver failed to load)."
    }
    if (-not (Wait-ServiceState -State 'Running')) {
        throw "$($names.Service) did not reach Running: run Collect-Diagnostics.ps1."
    }
}

# A mailslot created, written and read through the driver, when the harness is at hand.
$smoke = 'not run (the service is not running, or usermode-test.exe is not in the package)'
$harness = Join-Path -Path $PackagePath -ChildPath 'usermode-test.exe'
$service = Get-RsMailslotService
if ($service -and $service.State -eq 'Running' -and (Test-Path -LiteralPath $harness)) {
    $smoke = (& $harness --namespace rsmailslot --filter win32.write.round-trip | Select-Object -Last 1)
}
$package = @(Get-RsMailslotDriverPackage)
[pscustomobject]@{
    Service     = $names.Service
    State       = if ($service) { $service.State } else { 'not installed' }
    StartMode   = if ($service) { $service.StartMode } else { '' }
    Binary      = if ($service) { $service.PathName } else { '' }
    DriverStore = ($package | ForEach-Object { "$($_.Driver) $($_.Version)" }) -join ', '
    RoundTrip   = $smoke
}
