//! The loader refuses an image whose imports the emulated kernel does not provide, naming each
//! one, rather than binding it to anything (tests/smoke.rs checks the relocation).

use ntemu::image::Image;

mod common;

#[test]
fn an_import_without_an_export_fails_the_load_naming_it() {
    let mut bound = 0;
    let r = Image::load(&common::image(), &mut |module, name| {
        if module.eq_ignore_ascii_case("ntoskrnl.exe") && name == "KeSetTimer" {
            None
        } else {
            bound += 1;
            // A distinct non-null address per import is all the loader needs.
            Some(0x1000 * bound)
        }
    });
    let Err(err) = r else {
        panic!("the load must fail");
    };
    assert!(err.contains("ntoskrnl.exe!KeSetTimer"), "{err}");
    assert!(bound > 10, "every other import was offered ({bound})");
}
