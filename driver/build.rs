//! Link flags for the kernel image. Only the Windows target links the driver; host builds
//! compile the unit tests and need nothing.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os != "windows" || env != "msvc" {
        return;
    }
    for arg in [
        // A kernel-mode image for the NATIVE subsystem, Windows 10 and later.
        "/DRIVER",
        "/SUBSYSTEM:NATIVE,10.00",
        "/ENTRY:DriverEntry",
        // No C runtime: everything comes from ntoskrnl.exe, hal.dll and wdfldr.sys.
        "/NODEFAULTLIB",
        // Load-time signature check (needed by some kernel APIs), NX, ASLR.
        "/INTEGRITYCHECK",
        "/NXCOMPAT",
        "/DYNAMICBASE",
        "/DEBUG:FULL",
        "/OPT:REF,ICF",
    ] {
        println!("cargo:rustc-cdylib-link-arg={arg}");
    }
}
