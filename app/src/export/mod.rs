//! Exports of a view: the CSV both the browser and the server write (see [`csv`]), safe to open in
//! a spreadsheet program.

pub mod csv;
