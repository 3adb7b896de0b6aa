<#
.SYNOPSIS
    Copies the rsmailslot package and harness into a test VM, installs the driver, runs
    usermode-test.exe against Windows' MSFS and against rsmailslot, and shows both side by side.
.DESCRIPTION
    From a Windows host with Hyper-V, reaches the VM over PowerShell Direct
    (New-PSSession -VMName, no network needed); for any other VM, over WinRM
    (-ComputerName). In the VM it:
      1. checks test signing is in force (or, with -PrepareTestSigning, runs
         Enable-TestSigning.ps1 there, restarts the VM and waits for it);
      2. runs Install-Driver.ps1 on the copied package;
      3. runs usermode-test.exe --namespace native and --namespace rsmailslot, each with --json,
         then the same with usermode-test-x86.exe (the 32-bit build, a WoW64 caller);
      4. with -Bench, runs usermode-test.exe --bench against both namespaces;
      5. runs usermode-test.exe again as a standard user (a local account it creates and
         removes), through a scheduled task, against both namespaces.
    Then it brings the four JSON files back to -OutputPath and prints one line per row: the
    native result, the rsmailslot result, and what each observe row saw. It ends with the four
    closing lines and exits 1 when either rsmailslot run had a failed row.
.PARAMETER VMName
    The Hyper-V VM (PowerShell Direct). It must be running.
.PARAMETER ComputerName
    A VM reachable over WinRM (Enable-PSRemoting in the VM; TrustedHosts on the host for a
    workgroup VM).
.PARAMETER Credential
    An administrator account of the VM. Asked for when not given.
.PARAMETER PackagePath
    The folder written by tools/build-driver.sh: rsmailslot.sys, .inf, .cat, .cer,
    usermode-test.exe and usermode-test-x86.exe. Default: ..\target\package beside this script.
.PARAMETER RemotePath
    Where the package and scripts go in the VM. Default C:\rsmailslot.
.PARAMETER OutputPath
    Where the JSON results land on the host. Default .\vm-results.
.PARAMETER PrepareTestSigning
    When test signing is not in force in the VM: enable it there, restart the VM, wait, go on.
.PARAMETER Bench
    Also run the benchmark against both namespaces.
.PARAMETER StandardUser
    The local standard account the harness also runs as (created for the run, in BUILTIN\Users
    only, with a random password, and removed after). Default rsmailslot-harness.
.PARAMETER SkipInstall
    Run the harness against an rsmailslot already installed in the VM (the Driver Verifier
    recipe): the installed service is started first if it is not running.
.EXAMPLE
    .\Deploy-VM.ps1 -VMName rsmailslot-test -PrepareTestSigning
.EXAMPLE
    .\Deploy-VM.ps1 -ComputerName 192.168.56.10 -Credential (Get-Credential) -Bench
.EXAMPLE
    .\Deploy-VM.ps1 -VMName rsmailslot-test -WhatIf
    Checks the host, the VM and the package; changes nothing in the VM.
#>
[CmdletBinding(SupportsShouldProcess, DefaultParameterSetName = 'HyperV')]
param(
    [Parameter(Mandatory, ParameterSetName = 'HyperV')] [string] $VMName,
    [Parameter(Mandatory, ParameterSetName = 'WinRM')] [string] $ComputerName,
    [pscredential] $Credential,
    [string] $PackagePath = (Join-Path -Path $PSScriptRoot -ChildPath '..\target\package'),
    [string] $RemotePath = 'C:\rsmailslot',
    [string] $OutputPath = (Join-Path -Path (Get-Location).ProviderPath -ChildPath 'vm-results'),
    [switch] $PrepareTestSigning,
    [switch] $Bench,
    [switch] $SkipInstall,
    [string] $StandardUser = 'rsmailslot-harness'
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'RsMailslot.Common.psm1') -Force
$names = Get-RsMailslotName

# ---- host-side checks, before anything is copied --------------------------------------------
foreach ($file in $names.Sys, $names.Inf, $names.Catalog, 'rsmailslot.cer', 'usermode-test.exe', 'usermode-test-x86.exe') {
    Resolve-PackageFile -PackagePath $PackagePath -Name $file | Out-Null
}
$PackagePath = (Resolve-Path -LiteralPath $PackagePath).ProviderPath

if ($PSCmdlet.ParameterSetName -eq 'HyperV') {
    if (-not (Get-Command -Name Get-VM -ErrorAction SilentlyContinue)) {
        throw 'The Hyper-V PowerShell module is missing on this host (Enable-WindowsOptionalFeature -Online -FeatureName Microsoft-Hyper-V-Management-PowerShell), or use -ComputerName for a VM reached over WinRM.'
    }
    Assert-Administrator
    $vm = Get-VM -Name $VMName -ErrorAction SilentlyContinue
    if (-not $vm) {
        throw "No Hyper-V VM named '$VMName' on this host (Get-VM lists them)."
    }
    if ($vm.State -ne 'Running') {
        throw "VM '$VMName' is $($vm.State): start it (Start-VM -Name '$VMName') and wait for it to boot."
    }
    # A generation 2 VM's firmware may have Secure Boot on, under which Windows refuses test
    # signing; it can only be turned off with the VM off, so say so before touching the VM.
    if ($vm.Generation -eq 2 -and (Get-VMFirmware -VMName $VMName).SecureBoot -eq 'On') {
        throw "Secure Boot is on in VM '$VMName', and Windows refuses test signing under it. Stop the VM, run Set-VMFirmware -VMName '$VMName' -EnableSecureBoot Off, start it, then run this again."
    }
} else {
    try {
        Test-WSMan -ComputerName $ComputerName | Out-Null
    } catch {
        throw "WinRM does not answer on '$ComputerName': run Enable-PSRemoting -Force in the VM, and for a workgroup VM add it to the host's TrustedHosts. ($($_.Exception.Message))"
    }
}
if (-not $Credential) {
    $Credential = Get-Credential -Message 'An administrator account of the VM'
}

function New-VMSession {
    if ($PSCmdlet.ParameterSetName -eq 'HyperV') {
        New-PSSession -VMName $VMName -Credential $Credential
    } else {
        New-PSSession -ComputerName $ComputerName -Credential $Credential
    }
}

function Get-BootTime {
    param($Session)
    Invoke-Command -Session $Session -ScriptBlock {
        Set-ExecutionPolicy -Scope Process -ExecutionPolicy Bypass -Force
        (Get-CimInstance -ClassName Win32_OperatingSystem).LastBootUpTime
    }
}

function Wait-VMSession {
    # A session to the VM once it has booted again: one that reaches the old boot while it
    # shuts down (its boot time unchanged) does not count.
    param([datetime] $BootedBefore, [int] $Seconds = 600)
    $deadline = (Get-Date).AddSeconds($Seconds)
    while ((Get-Date) -lt $deadline) {
        Start-Sleep -Seconds 10
        try {
            $candidate = New-VMSession
        } catch {
            Write-Verbose "VM not reachable yet: $($_.Exception.Message)"
            continue
        }
        try {
            if ((Get-BootTime -Session $candidate) -ne $BootedBefore) {
                return $candidate
            }
            Write-Verbose 'The VM still runs the boot before the restart.'
        } catch {
            Write-Verbose "VM not ready yet: $($_.Exception.Message)"
        }
        Remove-PSSession -Session $candidate
    }
    throw "The VM did not come back from its restart within $Seconds s."
}

$target = if ($PSCmdlet.ParameterSetName -eq 'HyperV') { "VM $VMName" } else { $ComputerName }
$session = New-VMSession
try {
    $remoteScripts = Join-Path -Path $RemotePath -ChildPath 'scripts'
    $remotePackage = Join-Path -Path $RemotePath -ChildPath 'package'
    if ($PSCmdlet.ShouldProcess($target, "copy the package and scripts to $RemotePath")) {
        Invoke-Command -Session $session -ScriptBlock {
            param($Scripts, $Package)
            Set-ExecutionPolicy -Scope Process -ExecutionPolicy Bypass -Force
            New-Item -ItemType Directory -Force -Path $Scripts, $Package | Out-Null
        } -ArgumentList $remoteScripts, $remotePackage
        Copy-Item -ToSession $session -Path (Join-Path -Path $PackagePath -ChildPath '*') -Destination $remotePackage -Force
        Copy-Item -ToSession $session -Path (Join-Path -Path $PSScriptRoot -ChildPath '*.ps*1') -Destination $remoteScripts -Force
    }

    $state = Invoke-Command -Session $session -ScriptBlock {
        Set-ExecutionPolicy -Scope Process -ExecutionPolicy Bypass -Force
        $options = (Get-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Control' -Name SystemStartOptions).SystemStartOptions
        [pscustomobject]@{
            TestSigning = [bool]($options -match '\bTESTSIGNING\b')
            Build       = [Environment]::OSVersion.Version.ToString()
        }
    }
    Write-Host "$target runs Windows $($state.Build); test signing in force: $($state.TestSigning)"
    if (-not $state.TestSigning) {
        if (-not $PrepareTestSigning) {
            throw "Test signing is not in force in $target. Run again with -PrepareTestSigning (it runs Enable-TestSigning.ps1 there and restarts the VM), or run that script in the VM yourself."
        }
        if ($PSCmdlet.ShouldProcess($target, 'enable test signing and restart')) {
            $bootedBefore = Get-BootTime -Session $session
            Invoke-Command -Session $session -ScriptBlock {
                param($Scripts, $Package)
                Set-ExecutionPolicy -Scope Process -ExecutionPolicy Bypass -Force
                & (Join-Path $Scripts 'Enable-TestSigning.ps1') -CertificatePath (Join-Path $Package 'rsmailslot.cer') -Restart -Confirm:$false
            } -ArgumentList $remoteScripts, $remotePackage
            Remove-PSSession -Session $session
            Write-Host "Waiting for $target to restart..."
            $session = Wait-VMSession -BootedBefore $bootedBefore
        }
    }

    if (-not $SkipInstall -and $PSCmdlet.ShouldProcess($target, 'Install-Driver.ps1')) {
        Invoke-Command -Session $session -ScriptBlock {
            param($Scripts, $Package)
            Set-ExecutionPolicy -Scope Process -ExecutionPolicy Bypass -Force
            & (Join-Path $Scripts 'Install-Driver.ps1') -PackagePath $Package -Confirm:$false
        } -ArgumentList $remoteScripts, $remotePackage | Format-List | Out-Host
    } elseif ($SkipInstall -and $PSCmdlet.ShouldProcess($target, "start the installed $($names.Service) service")) {
        # The service is demand-start: after a restart (Driver Verifier's, say) nothing has
        # loaded the driver, so the harness would find no \\.\RsMailslot\ at all.
        Invoke-Command -Session $session -ScriptBlock {
            param($Scripts, $Service)
            Set-ExecutionPolicy -Scope Process -ExecutionPolicy Bypass -Force
            Import-Module -Name (Join-Path $Scripts 'RsMailslot.Common.psm1') -Force
            $out = & sc.exe start $Service 2>&1 | Out-String
            # 1056: already running.
            if ($LASTEXITCODE -ne 0 -and $LASTEXITCODE -ne 1056) {
                throw "sc.exe start $Service failed (exit $LASTEXITCODE): $out"
            }
            if (-not (Wait-ServiceState -State 'Running')) {
                throw "$Service did not reach Running: run Collect-Diagnostics.ps1 in the VM."
            }
        } -ArgumentList $remoteScripts, $names.Service
    }

    if (-not $PSCmdlet.ShouldProcess($target, 'run usermode-test.exe and usermode-test-x86.exe against native and rsmailslot')) {
        return
    }
    # The 32-bit harness runs under WoW64: its FILE_MAILSLOT_SET_INFORMATION holds a 4-byte
    # pointer, which the driver must read as one (IoIs32bitProcess).
    $runs = Invoke-Command -Session $session -ScriptBlock {
        param($Package, $Bench)
        Set-ExecutionPolicy -Scope Process -ExecutionPolicy Bypass -Force
        foreach ($build in @(@{ Exe = 'usermode-test.exe'; Suffix = '' }, @{ Exe = 'usermode-test-x86.exe'; Suffix = '-x86' })) {
            $exe = Join-Path $Package $build.Exe
            foreach ($ns in 'native', 'rsmailslot') {
                $name = "$ns$($build.Suffix)"
                $json = Join-Path $Package "$name.json"
                $text = & $exe --namespace $ns --json $json 2>&1 | Out-String
                $code = $LASTEXITCODE
                $bench = if ($Bench -and -not $build.Suffix) { & $exe --bench --namespace $ns 2>&1 | Out-String } else { '' }
                [pscustomobject]@{ Name = $name; Exit = $code; Text = $text; Json = $json; Bench = $bench }
            }
        }
    } -ArgumentList $remotePackage, $Bench.IsPresent

    # The table again as a standard user: every user of a machine shares the driver, and most
    # programs run as one. A remote session cannot start a process as another user, so a
    # scheduled task runs the harness under a local standard account made for it and removed
    # after, with a random password nobody keeps.
    if ($PSCmdlet.ShouldProcess($target, "run usermode-test.exe as the standard user $StandardUser")) {
        $runs = @($runs) + @(Invoke-Command -Session $session -ScriptBlock {
                param($Package, $User)
                Set-ExecutionPolicy -Scope Process -ExecutionPolicy Bypass -Force
                $alphabet = [char[]]'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789'
                $password = (-join (1..24 | ForEach-Object { Get-Random -InputObject $alphabet })) + '-Aa9'
                $secure = ConvertTo-SecureString -String $password -AsPlainText -Force
                if (Get-LocalUser -Name $User -ErrorAction SilentlyContinue) {
                    Set-LocalUser -Name $User -Password $secure
                } else {
                    New-LocalUser -Name $User -Password $secure -AccountNeverExpires -Description 'rsmailslot harness run as a standard user' | Out-Null
                }
                # BUILTIN\Users, by SID: its name is localized.
                Add-LocalGroupMember -SID 'S-1-5-32-545' -Member $User -ErrorAction SilentlyContinue
                $out = Join-Path -Path $env:ProgramData -ChildPath 'rsmailslot-standard-user'
                New-Item -ItemType Directory -Force -Path $out | Out-Null
                & icacls.exe $out /grant "${User}:(OI)(CI)M" | Out-Null
                & icacls.exe $Package /grant "${User}:(OI)(CI)RX" | Out-Null
                try {
                    foreach ($ns in 'native', 'rsmailslot') {
                        $name = "$ns-user"
                        $json = Join-Path -Path $out -ChildPath "$name.json"
                        $txt = Join-Path -Path $out -ChildPath "$name.txt"
                        Remove-Item -LiteralPath $json, $txt -ErrorAction SilentlyContinue
                        $exe = Join-Path -Path $Package -ChildPath 'usermode-test.exe'
                        $task = "rsmailslot-harness-$ns"
                        $action = New-ScheduledTaskAction -Execute 'cmd.exe' -Argument "/c `"`"$exe`" --namespace $ns --json `"$json`" > `"$txt`" 2>&1`""
                        Register-ScheduledTask -TaskName $task -Action $action -User $User -Password $password -RunLevel Limited -Force | Out-Null
                        Start-ScheduledTask -TaskName $task
                        $deadline = (Get-Date).AddMinutes(10)
                        do {
                            Start-Sleep -Seconds 2
                            $state = (Get-ScheduledTask -TaskName $task).State
                        } while ($state -in 'Queued', 'Running' -and (Get-Date) -lt $deadline)
                        $code = (Get-ScheduledTaskInfo -TaskName $task).LastTaskResult
                        Unregister-ScheduledTask -TaskName $task -Confirm:$false
                        if (-not (Test-Path -LiteralPath $json)) {
                            throw "The harness run as $User against $ns wrote no results (task result $code): $(Get-Content -LiteralPath $txt -Raw -ErrorAction SilentlyContinue)"
                        }
                        [pscustomobject]@{ Name = $name; Exit = $code; Text = (Get-Content -LiteralPath $txt -Raw); Json = $json; Bench = '' }
                    }
                } finally {
                    Remove-LocalUser -Name $User -ErrorAction SilentlyContinue
                }
            } -ArgumentList $remotePackage, $StandardUser)
    }

    New-Item -ItemType Directory -Force -Path $OutputPath | Out-Null
    $results = @{}
    foreach ($run in $runs) {
        $local = Join-Path -Path $OutputPath -ChildPath "$($run.Name).json"
        Copy-Item -FromSession $session -Path $run.Json -Destination $local -Force
        $results[$run.Name] = Get-Content -LiteralPath $local -Raw | ConvertFrom-Json
        Set-Content -LiteralPath (Join-Path -Path $OutputPath -ChildPath "$($run.Name).txt") -Value $run.Text
    }
} finally {
    if ($session) { Remove-PSSession -Session $session }
}

# ---- side by side ---------------------------------------------------------------------------
$native = $results['native']
$ours = $results['rsmailslot']
$byId = @{}
foreach ($row in $native.rows) { $byId[$row.id] = $row }
$table = foreach ($row in $ours.rows) {
    $other = $byId[$row.id]
    [pscustomobject]@{
        Row        = $row.id
        Native     = if ($other) { $other.status } else { '-' }
        RsMailslot = $row.status
        Same       = if ($other -and $other.status -eq $row.status) { '' } else { '<>' }
    }
}
$table | Format-Table -AutoSize | Out-Host

Write-Host 'What the observe rows saw on native Windows (these settle our documented choices):'
foreach ($row in @($native.rows | Where-Object kind -EQ 'observe')) {
    Write-Host "  $($row.id)"
    foreach ($note in $row.notes) { Write-Host "      $note" }
}
foreach ($run in $runs) {
    if ($run.Bench) { Write-Host $run.Bench }
}
foreach ($name in 'native', 'rsmailslot', 'native-x86', 'rsmailslot-x86', 'native-user', 'rsmailslot-user') {
    if (-not $results.ContainsKey($name)) { continue }
    $s = $results[$name].summary
    Write-Host ("{0,-15} {1} passed, {2} failed, {3} skipped, {4} known divergences, {5} observed" -f $name, $s.passed, $s.failed, $s.skipped, $s.knownDivergences, $s.observed)
}
Write-Host "Results: $OutputPath (native.json, rsmailslot.json, their -x86 twins from the 32-bit harness and -user twins from the standard user's run, and the printed tables)"
$failed = @('rsmailslot', 'rsmailslot-x86', 'rsmailslot-user' | Where-Object { $results.ContainsKey($_) -and $results[$_].summary.failed -gt 0 })
if ($failed.Count -gt 0) {
    Write-Host "Failed rows in: $($failed -join ', ')"
    exit 1
}
