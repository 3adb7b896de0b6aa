use super::*;

use der::DecodePem;
use pkcs8::DecodePrivateKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use signature::Verifier;

/// A throwaway key and certificate made for these tests alone (tests/data).
const TEST_CERT: &str = include_str!("../tests/data/test-only.crt");
const TEST_KEY: &str = include_str!("../tests/data/test-only.key");

/// A PE32+ image as the hash sees it: DOS header pointing at the PE header at 0x80, an
/// optional header with 16 directories, then `body` bytes, then (when `cert` is not empty) a
/// certificate table the directory names.
fn image(body: &[u8], cert: &[u8]) -> Vec<u8> {
    let pe = 0x80usize;
    let optional = pe + 24;
    let directories = optional + 112;
    let headers_end = directories + 16 * 8;
    let mut data = vec![0u8; headers_end];
    data[..2].copy_from_slice(b"MZ");
    data[0x3C..0x40].copy_from_slice(&(pe as u32).to_le_bytes());
    data[pe..pe + 4].copy_from_slice(b"PE\0\0");
    data[optional..optional + 2].copy_from_slice(&0x20Bu16.to_le_bytes());
    data.extend_from_slice(body);
    if !cert.is_empty() {
        let at = data.len() as u32;
        let entry = directories + 4 * 8;
        data[entry..entry + 4].copy_from_slice(&at.to_le_bytes());
        data[entry + 4..entry + 8].copy_from_slice(&(cert.len() as u32).to_le_bytes());
        data.extend_from_slice(cert);
    }
    data
}

#[test]
fn the_image_hash_skips_the_checksum_the_certificate_entry_and_table() {
    let signed = image(b"code and data!!!", b"a certificate table");
    let base = image_digest(&signed).unwrap();
    // The checksum field (optional header + 64) does not count.
    let mut other = signed.clone();
    other[0x80 + 24 + 64] ^= 0xFF;
    assert_eq!(image_digest(&other).unwrap(), base);
    // Nor does the certificate table's content.
    let mut other = signed.clone();
    let last = other.len() - 1;
    other[last] ^= 0xFF;
    assert_eq!(image_digest(&other).unwrap(), base);
    // Every other byte does.
    for at in [0x40, 0x80 + 24 + 63, 0x80 + 24 + 68, signed.len() - 20] {
        let mut other = signed.clone();
        other[at] ^= 0xFF;
        assert_ne!(image_digest(&other).unwrap(), base, "byte {at:#x}");
    }
    // Unsigned, the image is hashed to its end, zero-padded to 8 bytes: 7 body bytes hash
    // like the same 7 followed by a zero when that zero completes the 8.
    let seven = image(b"1234567", b"");
    let eight = image(b"1234567\0", b"");
    assert_eq!(image_digest(&seven).unwrap(), image_digest(&eight).unwrap());
}

#[test]
fn what_is_not_an_image_is_refused() {
    assert!(image_digest(b"").is_err());
    assert!(image_digest(b"MZ").is_err());
    let mut bad = image(b"x", b"");
    bad[0x80] = b'N';
    assert!(image_digest(&bad).is_err());
    let mut magic = image(b"x", b"");
    magic[0x80 + 24] = 0x99;
    assert!(image_digest(&magic).is_err());
    // A certificate table that starts inside the headers or past the end.
    let mut outside = image(b"x", b"cert");
    let entry = 0x80 + 24 + 112 + 32;
    outside[entry..entry + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(image_digest(&outside).is_err());
    outside[entry..entry + 4].copy_from_slice(&4u32.to_le_bytes());
    assert!(image_digest(&outside).is_err());
    // Truncated anywhere in the headers: an error, never a panic.
    let whole = image(b"body", b"");
    for len in 0..whole.len() {
        let _ = image_digest(&whole[..len]);
    }
}

fn test_catalog() -> (Vec<u8>, [Member; 2]) {
    let members = [
        Member::of("rsmailslot.sys", Kind::Pe, &image(b"driver", b"sig")).unwrap(),
        Member::of("rsmailslot.inf", Kind::Flat, b"[Version]\r\n").unwrap(),
    ];
    let ctl = catalog_list(&members, 1_800_000_000, "2:10.0").unwrap();
    let cert = Certificate::from_pem(TEST_CERT.as_bytes()).unwrap();
    let key = RsaPrivateKey::from_pkcs8_pem(TEST_KEY).unwrap();
    (sign(&ctl, &cert, key, 1_800_000_000).unwrap(), members)
}

#[test]
fn the_catalog_is_pkcs7_signed_data_over_the_ctl_itself() {
    let (cat, members) = test_catalog();
    let info = ContentInfo::from_der(&cat).unwrap();
    assert_eq!(info.content_type, SIGNED_DATA);
    let signed: SignedData = info.content.decode_as().unwrap();
    assert_eq!(signed.version, CmsVersion::V1);
    assert_eq!(signed.encap_content_info.econtent_type, CTL);
    // The CTL is the content itself, a SEQUENCE, not an OCTET STRING around it.
    let content = signed.encap_content_info.econtent.unwrap();
    assert_eq!(der::Tagged::tag(&content), Tag::Sequence);
    let signer = signed.signer_infos.0.get(0).unwrap();
    let attrs = signer.signed_attrs.as_ref().unwrap();
    let value_of = |oid: Oid| {
        attrs
            .iter()
            .find(|a| a.oid == oid)
            .and_then(|a| a.values.get(0))
            .cloned()
            .unwrap()
    };
    // The message digest covers the CTL's contents without its tag and length.
    let digest: OctetString = value_of(MESSAGE_DIGEST).decode_as().unwrap();
    assert_eq!(
        digest.as_bytes(),
        Sha256::digest(content.value()).as_slice()
    );
    assert_eq!(value_of(CONTENT_TYPE).decode_as::<Oid>().unwrap(), CTL);
    // The signature verifies over the attributes' SET OF encoding with the certificate's key.
    let cert = Certificate::from_pem(TEST_CERT.as_bytes()).unwrap();
    let key = RsaPrivateKey::from_pkcs8_pem(TEST_KEY).unwrap();
    let verifying = VerifyingKey::<Sha256>::new(key.to_public_key());
    let sig = Signature::try_from(signer.signature.as_bytes()).unwrap();
    verifying.verify(&attrs.to_der().unwrap(), &sig).unwrap();
    // A changed attribute no longer verifies.
    let mut changed = attrs.to_der().unwrap();
    let last = changed.len() - 1;
    changed[last] ^= 1;
    assert!(verifying.verify(&changed, &sig).is_err());
    assert_eq!(
        signed.certificates.unwrap().0.get(0),
        Some(&CertificateChoices::Certificate(cert))
    );
    // Each member is tagged with its hash, which its indirect data repeats.
    let list = CatalogList::from_der(&content.to_der().unwrap()).unwrap();
    assert_eq!(list.usage, [CATALOG_LIST]);
    assert_eq!(list.member_algorithm.oid, CATALOG_LIST_MEMBER2);
    assert_eq!(list.members.len(), 2);
    for (m, entry) in members.iter().zip(&list.members) {
        assert_eq!(entry.tag.as_bytes(), m.digest);
        let indirect = entry
            .attributes
            .iter()
            .find(|a| a.oid == SPC_INDIRECT_DATA)
            .unwrap();
        let idc: SpcIndirectDataContent = indirect.values.get(0).unwrap().decode_as().unwrap();
        assert_eq!(idc.message_digest.digest.as_bytes(), m.digest);
        let expected = match m.kind {
            Kind::Pe => SPC_PE_IMAGE_DATA,
            Kind::Flat => SPC_CAB_DATA,
        };
        assert_eq!(idc.data.oid, expected);
    }
    // The catalog names the Windows versions it is for.
    let os = &list.attributes.unwrap()[0];
    let nv = NameValue::from_der(os.value.as_bytes()).unwrap();
    assert_eq!(nv.name.to_string(), "OSAttr");
    assert_eq!(nv.value.as_bytes(), utf16z("2:10.0").as_slice());
}

#[test]
fn the_same_inputs_make_the_same_catalog() {
    let (a, _) = test_catalog();
    let (b, _) = test_catalog();
    // RSA PKCS#1 v1.5 signatures are deterministic, and so is everything else.
    assert_eq!(a, b);
}
