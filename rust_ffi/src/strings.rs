//! A list of strings handed to C, for results such as scope and stream names.

use crate::args;
use std::ffi::{c_char, CString};

/// An immutable list of NUL-terminated UTF-8 strings.
///
/// The caller owns it and frees it, once, with `pravega_string_list_free`. The strings
/// belong to the list. It may be read from several threads at once.
pub struct PravegaStringList {
    items: Vec<CString>,
}

impl PravegaStringList {
    pub(crate) fn from_strings(strings: impl IntoIterator<Item = String>) -> Self {
        let items = strings
            .into_iter()
            .map(|text| CString::new(text.replace('\0', "\\0")).expect("NUL bytes were replaced"))
            .collect();
        PravegaStringList { items }
    }
}

/// The number of strings in `list`; 0 when it is NULL. Thread-safe.
#[no_mangle]
pub extern "C" fn pravega_string_list_len(list: *const PravegaStringList) -> usize {
    args::handle("list", list).map_or(0, |list| list.items.len())
}

/// The string at `index`, or NULL when `list` is NULL or `index` is out of range.
///
/// The string belongs to the list: it stays valid until the list is freed, and must not
/// be freed by the caller. Thread-safe.
#[no_mangle]
pub extern "C" fn pravega_string_list_get(
    list: *const PravegaStringList,
    index: usize,
) -> *const c_char {
    match args::handle("list", list) {
        Ok(list) => list
            .items
            .get(index)
            .map_or(std::ptr::null(), |item| item.as_ptr()),
        Err(_) => std::ptr::null(),
    }
}

/// Frees a list and its strings. NULL is ignored; freeing twice is undefined behaviour.
#[no_mangle]
pub extern "C" fn pravega_string_list_free(list: *mut PravegaStringList) {
    if !list.is_null() {
        // SAFETY: made by this library with Box::into_raw, freed once.
        drop(unsafe { Box::from_raw(list) });
    }
}
