//! JSON Lines interchange: reading events users give and writing events as the
//! ledger holds them. (Being written; see issue 3, item 4.)
