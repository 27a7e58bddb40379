//! The sample app's flows over real HTTP, with codes read from mail delivered over SMTP, one
//! flow a file: signing up and in, changing the email, the code page, and the development mailbox.

mod code_page;
mod dev_mailbox;
mod email_change;
mod sign_in;
