//! The stance-phrase lexicon: suggests a stance band for diplomatic language.
//! (Being written; see issue 7, item 5.)
