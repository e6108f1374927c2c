//! `Ledger::copy_tokens_from` (what `onrecord copy` does with API tokens)
//! over in-memory ledgers: new tokens arrive with their digests, a token
//! revoked on either side stays revoked, and a token id the target keeps
//! with another secret refuses the copy with nothing written.

use onrecord_ledger::access::{Role, TokenRecord, hash_secret};
use onrecord_ledger::{Clock, ErrorKind, Ledger, MemoryStorage, Opening, StoreError};

fn memory_ledger() -> Ledger {
    Ledger::from_storage(
        Box::new(MemoryStorage::new("memory")),
        Clock::default(),
        Opening::Create,
    )
    .unwrap()
}

fn token(id: &str, secret: &str, revoked_at: Option<i64>) -> TokenRecord {
    TokenRecord {
        id: id.into(),
        name: format!("{id}-name"),
        role: Role::Append,
        secret_sha256: hash_secret(secret),
        created_at: 1_543_000_000_000_000,
        expires_at: None,
        revoked_at,
    }
}

#[test]
fn tokens_arrive_with_their_digests_and_a_second_copy_writes_nothing() {
    let (source, target) = (memory_ledger(), memory_ledger());
    source.add_token(&token("aa", "one", None)).unwrap();
    source.add_token(&token("bb", "two", Some(5))).unwrap();
    assert_eq!(target.copy_tokens_from(&source).unwrap(), 2);
    assert_eq!(target.tokens().unwrap(), source.tokens().unwrap());
    assert_eq!(target.copy_tokens_from(&source).unwrap(), 0, "nothing new");
}

#[test]
fn a_token_revoked_on_either_side_stays_revoked_at_the_earlier_time() {
    let (source, target) = (memory_ledger(), memory_ledger());
    source.add_token(&token("aa", "one", None)).unwrap();
    source.add_token(&token("bb", "two", None)).unwrap();
    target.copy_tokens_from(&source).unwrap();

    source.revoke_token("aa", 7).unwrap();
    target.revoke_token("bb", 9).unwrap();
    assert_eq!(
        target.copy_tokens_from(&source).unwrap(),
        1,
        "aa revoked since"
    );
    let kept = target.tokens().unwrap();
    assert_eq!(
        kept[0].revoked_at,
        Some(7),
        "the source's revocation arrives"
    );
    assert_eq!(kept[1].revoked_at, Some(9), "the target's is never undone");

    source.revoke_token("bb", 2).unwrap();
    target.copy_tokens_from(&source).unwrap();
    assert_eq!(
        target.token("bb").unwrap().unwrap().revoked_at,
        Some(2),
        "the earlier time"
    );
}

#[test]
fn a_token_id_kept_with_another_secret_refuses_the_copy_and_writes_nothing() {
    let (source, target) = (memory_ledger(), memory_ledger());
    source.add_token(&token("aa", "one", None)).unwrap();
    source.add_token(&token("zz", "mine", None)).unwrap();
    target.add_token(&token("zz", "theirs", None)).unwrap();
    let err = target.copy_tokens_from(&source).unwrap_err();
    assert!(
        matches!(&err, StoreError::TokenClash(id) if id == "zz"),
        "{err}"
    );
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(err.to_string().contains("`zz`"), "{err}");
    assert_eq!(
        target.tokens().unwrap().len(),
        1,
        "aa was not written either"
    );
}
