<#
.SYNOPSIS
    Gathers what is needed to understand a failing rsmailslot installation into one folder
    (and a .zip of it).
.DESCRIPTION
    Changes nothing. Records: Windows build and test-signing state; the RsMailslot service
    (state, start mode, binary, last exit code); the driver-store package and the binary's
    hash and signature; the KMDF runtime version (Wdf01000.sys); Driver Verifier's settings
    and whether rsmailslot.sys is verified; recent Service Control Manager and Kernel-PnP
    events that mention the driver; the newest minidump (copied) if one exists, plus whether a
    full MEMORY.DMP is present; `sc qc` of the service and its Parameters\Wdf key; and
    setupapi.dev.log, where pnputil's failures are explained. Run it elevated: it refuses to
    start otherwise, as half of this is unreadable without it.
.PARAMETER OutputPath
    The folder to write. Default: .\rsmailslot-diagnostics-<date>.
.EXAMPLE
    .\Collect-Diagnostics.ps1
.EXAMPLE
    .\Collect-Diagnostics.ps1 -OutputPath C:\temp\diag
#>
[CmdletBinding()]
param(
    [string] $OutputPath = (Join-Path -Path (Get-Location).ProviderPath -ChildPath ("rsmailslot-diagnostics-{0:yyyyMMdd-HHmmss}" -f (Get-Date)))
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'RsMailslot.Common.psm1') -Force
$names = Get-RsMailslotName

# Refused early rather than half done: DISM's driver list, Driver Verifier's settings, the
# minidump folder and some event logs are only readable elevated.
if (-not (Test-Administrator)) {
    throw 'Run Collect-Diagnostics.ps1 from an elevated PowerShell (Run as administrator): the driver store, Driver Verifier settings, dumps and some logs are unreadable otherwise.'
}
New-Item -ItemType Directory -Force -Path $OutputPath | Out-Null
$report = [ordered]@{}

$report['Windows'] = [Environment]::OSVersion.Version.ToString()
$report['TestSigningActive'] = Test-TestSigningActive
try { $report['TestSigningNextBoot'] = Test-TestSigningConfigured } catch { $report['TestSigningNextBoot'] = "unknown: $($_.Exception.Message)" }

$service = Get-RsMailslotService
if ($service) {
    $report['Service'] = [ordered]@{
        State     = $service.State
        StartMode = $service.StartMode
        Binary    = $service.PathName
        ExitCode  = $service.ExitCode
    }
    $binary = $service.PathName -replace '^\\\?\?\\', '' -replace '^\\SystemRoot', $env:SystemRoot
    if (Test-Path -LiteralPath $binary) {
        $signature = Get-AuthenticodeSignature -FilePath $binary
        $report['Binary'] = [ordered]@{
            Path            = $binary
            Size            = (Get-Item -LiteralPath $binary).Length
            Sha256          = (Get-FileHash -LiteralPath $binary -Algorithm SHA256).Hash
            SignatureStatus = [string]$signature.Status
            Signer          = if ($signature.SignerCertificate) { "$($signature.SignerCertificate.Subject) $($signature.SignerCertificate.Thumbprint)" } else { 'none' }
        }
    }
} else {
    $report['Service'] = 'not installed'
}

$report['DriverStore'] = @(Get-RsMailslotDriverPackage | ForEach-Object {
    [ordered]@{ PublishedName = $_.Driver; Version = $_.Version; Date = "$($_.Date)"; OriginalFile = $_.OriginalFileName }
})

# The service as the Service Control Manager sees it, and its KMDF key (the version it bound).
& sc.exe qc $names.Service 2>&1 | Out-String | Set-Content -LiteralPath (Join-Path -Path $OutputPath -ChildPath 'sc-qc.txt')
$wdfKey = "HKLM:\SYSTEM\CurrentControlSet\Services\$($names.Service)\Parameters\Wdf"
$report['ServiceWdfKey'] = if (Test-Path -LiteralPath $wdfKey) {
    $values = Get-ItemProperty -LiteralPath $wdfKey
    [ordered]@{ KmdfLibraryVersion = [string]$values.KmdfLibraryVersion; WdfMajorVersion = [string]$values.WdfMajorVersion; WdfMinorVersion = [string]$values.WdfMinorVersion }
} else {
    'absent'
}

# pnputil's documentation names setupapi.dev.log as where an install failure is explained:
# the sections of it that mention the INF.
$setupLog = Join-Path -Path $env:SystemRoot -ChildPath 'INF\setupapi.dev.log'
if (Test-Path -LiteralPath $setupLog) {
    Copy-Item -LiteralPath $setupLog -Destination $OutputPath
    $report['SetupApiLogMentions'] = @(Select-String -LiteralPath $setupLog -Pattern ([regex]::Escape($names.Inf)) -SimpleMatch:$false).Count
} else {
    $report['SetupApiLogMentions'] = 'no setupapi.dev.log'
}

$wdf = Join-Path -Path $env:SystemRoot -ChildPath 'System32\drivers\Wdf01000.sys'
if (Test-Path -LiteralPath $wdf) {
    $report['KmdfRuntime'] = (Get-Item -LiteralPath $wdf).VersionInfo.FileVersion
}

# verifier.exe prints its settings; /querysettings lists the verified drivers too.
$verifier = & verifier.exe /querysettings 2>&1 | Out-String
$verifier | Set-Content -LiteralPath (Join-Path -Path $OutputPath -ChildPath 'verifier.txt')
$report['DriverVerifierOnRsMailslot'] = [bool]($verifier -match [regex]::Escape($names.Sys))

$events = @()
foreach ($log in @(
        @{ LogName = 'System'; ProviderName = 'Service Control Manager' },
        @{ LogName = 'Microsoft-Windows-Kernel-PnP/Configuration' })) {
    try {
        $events += Get-WinEvent -FilterHashtable $log -MaxEvents 500 -ErrorAction Stop |
            Where-Object { $_.Message -match 'rsmailslot' }
    } catch {
        Write-Verbose "No events from $($log.LogName): $($_.Exception.Message)"
    }
}
$events | Sort-Object -Property TimeCreated | Select-Object -Last 50 -Property TimeCreated, Id, ProviderName, Message |
    Format-List | Out-String | Set-Content -LiteralPath (Join-Path -Path $OutputPath -ChildPath 'events.txt')
$report['EventsMentioningDriver'] = $events.Count

$minidumps = Join-Path -Path $env:SystemRoot -ChildPath 'Minidump'
$latest = Get-ChildItem -Path $minidumps -Filter '*.dmp' -ErrorAction SilentlyContinue |
    Sort-Object -Property LastWriteTime | Select-Object -Last 1
if ($latest) {
    Copy-Item -LiteralPath $latest.FullName -Destination $OutputPath
    $report['LatestMinidump'] = "$($latest.Name) ($($latest.LastWriteTime))"
} else {
    $report['LatestMinidump'] = 'none'
}
$report['FullMemoryDump'] = Test-Path -LiteralPath (Join-Path -Path $env:SystemRoot -ChildPath 'MEMORY.DMP')

$report | ConvertTo-Json -Depth 4 | Set-Content -LiteralPath (Join-Path -Path $OutputPath -ChildPath 'report.json')
$zip = "$OutputPath.zip"
Compress-Archive -Path (Join-Path -Path $OutputPath -ChildPath '*') -DestinationPath $zip -Force
[pscustomobject]$report | Format-List | Out-Host
Write-Host "Diagnostics: $OutputPath (and $zip)"
