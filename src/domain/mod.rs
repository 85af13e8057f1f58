//! Plain types and rules, no I/O: what a directory, a contact and a typed number are.
//!
//! Everything outside (HTTP paths, CSV cells, database rows) is parsed into these types at the
//! edge, so the rest of the program never re-checks a key or a number type.

pub mod cidr;
mod contact;
mod id;
mod key;
pub mod merge;
mod number;
pub mod phone;
pub mod search;
mod settings;
mod shape;
pub mod text;
mod warning;

pub use contact::{composed_name, Contact, NumberSet};
pub use id::ContactId;
pub use key::{mask_key, Access, ApiKey, Guessable, KeyError, Scope};
pub use number::{NumberType, PhoneNumber};
pub use settings::{DirectorySettings, RawSettings, SettingsError};
pub use shape::{OutsidePrefix, Shape, ShapeError};
pub use warning::{RecordWarning, SourceWarnings, SHOWN_WARNINGS};
