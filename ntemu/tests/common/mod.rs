//! What every test of the real binary shares: where the signed image is.

use std::path::PathBuf;

/// The signed `rsmailslot.sys` exactly as `tools/build-driver.sh` packages it
/// (`RSMAILSLOT_SYS` overrides the path). A test of the binary without the binary fails: run
/// `tools/build-driver.sh` first (`tools/test.sh` does).
pub fn image() -> PathBuf {
    let path = std::env::var_os("RSMAILSLOT_SYS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/package/rsmailslot.sys")
        });
    assert!(
        path.is_file(),
        "{} is missing: build the package with tools/build-driver.sh first",
        path.display()
    );
    path
}
