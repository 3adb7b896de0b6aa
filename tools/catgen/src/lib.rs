//! The driver package's catalog file, made on Linux: what Inf2Cat writes on Windows.
//!
//! A catalog is a PKCS#7 SignedData whose content is a Microsoft certificate trust list
//! (CTL, `1.3.6.1.4.1.311.10.1`) of the package's files: for each, its hash as the member's
//! tag and attributes naming the file and carrying the hash again in an Authenticode
//! `SpcIndirectDataContent` (the PE image hash for a PE file, a plain SHA-256 for others).
//! The layout follows a catalog made by Microsoft's makecat (version 2, SHA-256), as read
//! with `openssl asn1parse` from osslsigncode's test files, and the structures
//! osslsigncode declares to read one (`MsCtlContent`, `CatalogInfo`, `CatalogAuthAttr`).
//! Everything is encoded with the RustCrypto `der`, `cms` and `x509-cert` crates.

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{
    Any, BitString, BmpString, ContextSpecific, Null, ObjectIdentifier as Oid, OctetString,
    SetOfVec, UtcTime,
};
use der::{Decode, Encode, Sequence, Tag, TagMode, TagNumber};
use rsa::pkcs1v15::SigningKey;
use rsa::RsaPrivateKey;
use sha2::{Digest, Sha256};
use signature::{SignatureEncoding, Signer};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_cert::Certificate;

mod pe;
pub use pe::image_digest;

// Object identifiers (Microsoft's wincrypt.h and mssip.h names).
const SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
const CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
const SIGNING_TIME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.5");
const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
/// szOID_CTL: the signed content is a certificate trust list.
pub const CTL: Oid = Oid::new_unwrap("1.3.6.1.4.1.311.10.1");
/// szOID_CATALOG_LIST: the CTL's subject usage, a catalog.
const CATALOG_LIST: Oid = Oid::new_unwrap("1.3.6.1.4.1.311.12.1.1");
/// szOID_CATALOG_LIST_MEMBER2: members are tagged by their SHA-256 (catalog version 2).
const CATALOG_LIST_MEMBER2: Oid = Oid::new_unwrap("1.3.6.1.4.1.311.12.1.3");
/// CAT_NAMEVALUE_OBJID: a named attribute (File, OSAttr).
const CAT_NAMEVALUE: Oid = Oid::new_unwrap("1.3.6.1.4.1.311.12.2.1");
/// CAT_MEMBERINFO2_OBJID: which subject interface package hashes the member.
const CAT_MEMBERINFO2: Oid = Oid::new_unwrap("1.3.6.1.4.1.311.12.2.3");
/// SPC_INDIRECT_DATA_OBJID: the member's hash in Authenticode's form.
pub const SPC_INDIRECT_DATA: Oid = Oid::new_unwrap("1.3.6.1.4.1.311.2.1.4");
/// SPC_PE_IMAGE_DATA_OBJID: the hash is of a PE image (Authenticode's PE hash).
const SPC_PE_IMAGE_DATA: Oid = Oid::new_unwrap("1.3.6.1.4.1.311.2.1.15");
/// SPC_CAB_DATA_OBJID: what makecat names a flat file's hash with.
const SPC_CAB_DATA: Oid = Oid::new_unwrap("1.3.6.1.4.1.311.2.1.25");

/// CAT_NAMEVALUE flags makecat writes for a plain-text attribute:
/// CRYPTCAT_ATTR_AUTHENTICATED | CRYPTCAT_ATTR_NAMEASCII | CRYPTCAT_ATTR_DATAASCII.
const NAMEVALUE_TEXT: i32 = 0x1001_0001;

/// How a member's file is hashed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A PE image: the Authenticode PE hash ([`image_digest`]).
    Pe,
    /// Any other file: the SHA-256 of its bytes.
    Flat,
}

/// One file of the package.
#[derive(Clone, Debug)]
pub struct Member {
    /// The name recorded in the catalog (the file's name in the package).
    pub name: String,
    pub kind: Kind,
    pub digest: [u8; 32],
}

impl Member {
    /// The member for `name` with contents `data`.
    pub fn of(name: &str, kind: Kind, data: &[u8]) -> Result<Member, String> {
        let digest = match kind {
            Kind::Pe => image_digest(data)?,
            Kind::Flat => Sha256::digest(data).into(),
        };
        Ok(Member {
            name: name.to_string(),
            kind,
            digest,
        })
    }
}

#[derive(Sequence)]
struct CatalogList {
    /// SubjectUsage: a SEQUENCE holding one OID.
    usage: Vec<Oid>,
    list_identifier: OctetString,
    this_update: UtcTime,
    member_algorithm: AlgorithmIdentifierOwned,
    members: Vec<CatalogMember>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    attributes: Option<Vec<CatalogAttribute>>,
}

#[derive(Sequence)]
struct CatalogMember {
    tag: OctetString,
    attributes: SetOfVec<Attribute>,
}

/// A catalog-wide attribute: an OID and the DER of its value in an OCTET STRING.
#[derive(Sequence)]
struct CatalogAttribute {
    oid: Oid,
    value: OctetString,
}

/// CAT_NAMEVALUE: name, flags, and the value as NUL-terminated UTF-16LE.
#[derive(Sequence)]
struct NameValue {
    name: BmpString,
    flags: i32,
    value: OctetString,
}

#[derive(Sequence)]
struct SpcIndirectDataContent {
    data: SpcAttribute,
    message_digest: DigestInfo,
}

#[derive(Sequence)]
struct SpcAttribute {
    oid: Oid,
    value: Any,
}

#[derive(Sequence)]
struct SpcPeImageData {
    flags: BitString,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    file: Any,
}

#[derive(Sequence)]
struct DigestInfo {
    algorithm: AlgorithmIdentifierOwned,
    digest: OctetString,
}

fn der_err(e: der::Error) -> String {
    format!("DER: {e}")
}

fn sha256_algorithm() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: SHA256,
        parameters: Some(Any::from(Null)),
    }
}

/// A context-specific tag `[n]` with no content: how makecat marks a member's SIP choice and
/// an empty SpcLink.
fn empty_tagged(n: u8) -> Result<Any, String> {
    Any::new(
        Tag::ContextSpecific {
            constructed: false,
            number: TagNumber::new(n),
        },
        Vec::<u8>::new(),
    )
    .map_err(der_err)
}

fn explicit(n: u8, inner: Any) -> Result<Any, String> {
    let wrapped = ContextSpecific {
        tag_number: TagNumber::new(n),
        tag_mode: TagMode::Explicit,
        value: inner,
    };
    Any::encode_from(&wrapped).map_err(der_err)
}

fn utf16z(text: &str) -> Vec<u8> {
    text.encode_utf16()
        .chain(Some(0))
        .flat_map(u16::to_le_bytes)
        .collect()
}

fn name_value(name: &str, value: &str) -> Result<NameValue, String> {
    Ok(NameValue {
        name: BmpString::from_utf8(name).map_err(der_err)?,
        flags: NAMEVALUE_TEXT,
        value: OctetString::new(utf16z(value)).map_err(der_err)?,
    })
}

fn attribute(oid: Oid, value: Any) -> Result<Attribute, String> {
    let mut values = SetOfVec::new();
    values.insert(value).map_err(der_err)?;
    Ok(Attribute { oid, values })
}

/// The Authenticode form of a member's hash.
fn indirect_data(member: &Member) -> Result<SpcIndirectDataContent, String> {
    let data = match member.kind {
        Kind::Pe => {
            // SpcPeImageData as signing tools write it when they carry no page hashes: no
            // flags, and the file link an empty-string "<<<Obsolete>>>" SpcString.
            let obsolete = Any::new(
                Tag::ContextSpecific {
                    constructed: false,
                    number: TagNumber::N0,
                },
                "<<<Obsolete>>>"
                    .encode_utf16()
                    .flat_map(u16::to_be_bytes)
                    .collect::<Vec<u8>>(),
            )
            .map_err(der_err)?;
            let image = SpcPeImageData {
                flags: BitString::from_bytes(&[]).map_err(der_err)?,
                file: explicit(2, obsolete)?,
            };
            SpcAttribute {
                oid: SPC_PE_IMAGE_DATA,
                value: Any::encode_from(&image).map_err(der_err)?,
            }
        }
        Kind::Flat => SpcAttribute {
            oid: SPC_CAB_DATA,
            value: explicit(2, empty_tagged(0)?)?,
        },
    };
    Ok(SpcIndirectDataContent {
        data,
        message_digest: DigestInfo {
            algorithm: sha256_algorithm(),
            digest: OctetString::new(member.digest.to_vec()).map_err(der_err)?,
        },
    })
}

fn catalog_member(member: &Member) -> Result<CatalogMember, String> {
    // makecat's member-info choice: [0] for a PE image, [2] for a flat file.
    let sip = match member.kind {
        Kind::Pe => 0,
        Kind::Flat => 2,
    };
    let mut attributes = SetOfVec::new();
    attributes
        .insert(attribute(CAT_MEMBERINFO2, empty_tagged(sip)?)?)
        .map_err(der_err)?;
    let file = name_value("File", &member.name)?;
    attributes
        .insert(attribute(
            CAT_NAMEVALUE,
            Any::encode_from(&file).map_err(der_err)?,
        )?)
        .map_err(der_err)?;
    let indirect = indirect_data(member)?;
    attributes
        .insert(attribute(
            SPC_INDIRECT_DATA,
            Any::encode_from(&indirect).map_err(der_err)?,
        )?)
        .map_err(der_err)?;
    Ok(CatalogMember {
        tag: OctetString::new(member.digest.to_vec()).map_err(der_err)?,
        attributes,
    })
}

/// The unsigned CTL: the members, made at `time` (seconds since 1970, UTC), for the Windows
/// versions `os_attr` names (the catalog's OSAttr, as Inf2Cat writes it: "2:10.0").
pub fn catalog_list(members: &[Member], time: u64, os_attr: &str) -> Result<Vec<u8>, String> {
    // The list identifier only has to be unique; derived from the contents, the same inputs
    // give the same catalog.
    let mut id = Sha256::new();
    for m in members {
        id.update(m.name.as_bytes());
        id.update(m.digest);
    }
    let id = id.finalize();
    let os = name_value("OSAttr", os_attr)?;
    let list = CatalogList {
        usage: vec![CATALOG_LIST],
        list_identifier: OctetString::new(id[..16].to_vec()).map_err(der_err)?,
        this_update: utc(time)?,
        member_algorithm: AlgorithmIdentifierOwned {
            oid: CATALOG_LIST_MEMBER2,
            parameters: Some(Any::from(Null)),
        },
        members: members
            .iter()
            .map(catalog_member)
            .collect::<Result<_, _>>()?,
        attributes: Some(vec![CatalogAttribute {
            oid: CAT_NAMEVALUE,
            value: OctetString::new(os.to_der().map_err(der_err)?).map_err(der_err)?,
        }]),
    };
    list.to_der().map_err(der_err)
}

fn utc(time: u64) -> Result<UtcTime, String> {
    UtcTime::from_unix_duration(std::time::Duration::from_secs(time)).map_err(der_err)
}

/// The catalog: `ctl` signed by `key` (whose certificate `cert` travels inside), PKCS#7 style:
/// the CTL is the content itself (not wrapped in an OCTET STRING), and the signed message
/// digest covers its DER contents without the outer tag and length, as Windows and
/// osslsigncode compute it.
pub fn sign(
    ctl: &[u8],
    cert: &Certificate,
    key: RsaPrivateKey,
    time: u64,
) -> Result<Vec<u8>, String> {
    let content = Any::from_der(ctl).map_err(der_err)?;
    let digest: [u8; 32] = Sha256::digest(content.value()).into();

    let mut signed_attrs = SetOfVec::new();
    signed_attrs
        .insert(attribute(
            CONTENT_TYPE,
            Any::encode_from(&CTL).map_err(der_err)?,
        )?)
        .map_err(der_err)?;
    signed_attrs
        .insert(attribute(
            MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(digest.to_vec()).map_err(der_err)?)
                .map_err(der_err)?,
        )?)
        .map_err(der_err)?;
    signed_attrs
        .insert(attribute(
            SIGNING_TIME,
            Any::encode_from(&utc(time)?).map_err(der_err)?,
        )?)
        .map_err(der_err)?;
    // The signature covers the attributes' DER as a SET OF (tag 0x31), not as the [0] they are
    // stored under.
    let to_sign = signed_attrs.to_der().map_err(der_err)?;
    let signer = SigningKey::<Sha256>::new(key);
    let signature = signer
        .try_sign(&to_sign)
        .map_err(|e| format!("signing: {e}"))?
        .to_vec();

    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: cert.tbs_certificate.issuer.clone(),
            serial_number: cert.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: sha256_algorithm(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: AlgorithmIdentifierOwned {
            oid: RSA_ENCRYPTION,
            parameters: Some(Any::from(Null)),
        },
        signature: OctetString::new(signature).map_err(der_err)?,
        unsigned_attrs: None,
    };
    let mut digest_algorithms = SetOfVec::new();
    digest_algorithms
        .insert(sha256_algorithm())
        .map_err(der_err)?;
    let mut certificates = SetOfVec::new();
    certificates
        .insert(CertificateChoices::Certificate(cert.clone()))
        .map_err(der_err)?;
    let mut signer_infos = SetOfVec::new();
    signer_infos.insert(signer_info).map_err(der_err)?;
    let signed = SignedData {
        // PKCS#7 (RFC 2315) SignedData, as catalogs are: version 1.
        version: CmsVersion::V1,
        digest_algorithms,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: CTL,
            econtent: Some(content),
        },
        certificates: Some(CertificateSet(certificates)),
        crls: None,
        signer_infos: SignerInfos(signer_infos),
    };
    ContentInfo {
        content_type: SIGNED_DATA,
        content: Any::encode_from(&signed).map_err(der_err)?,
    }
    .to_der()
    .map_err(der_err)
}

#[cfg(test)]
mod tests;
