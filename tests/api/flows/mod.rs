//! The sample app's flows over real HTTP, with codes read from mail delivered over SMTP, one
//! flow a file: the home page, signing up and in, changing the email, the code page, the development mailbox,
//! the developer notes, and the account's name, sessions and deletion.

mod account;
mod code_page;
mod dev_mailbox;
mod dev_notes;
mod email_change;
mod home;
mod sessions;
mod sign_in;
