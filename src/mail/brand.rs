//! Who an app's emails come from: the product they name and the site they link to.

use reqwest::Url;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brand {
    product: String,
    /// `localhost:8080`: the host (and port) a reader can check against the address bar.
    site: String,
    /// `http://localhost:8080`: the base of every link, without a trailing slash.
    base_url: String,
}

impl Brand {
    pub fn new(product: &str, base_url: &Url) -> Self {
        let host = base_url.host_str().unwrap_or_default();
        let site = match base_url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        Self { product: product.to_owned(), site, base_url: base_url.as_str().trim_end_matches('/').to_owned() }
    }

    pub fn product(&self) -> &str {
        &self.product
    }

    pub fn site(&self) -> &str {
        &self.site
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The address of `path` (`/login`) on the site.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// `Mailbox challenges demo · localhost:8080`: the line that closes every email.
    pub fn signature(&self) -> String {
        format!("{} · {}", self.product, self.site)
    }

    /// A plain-text body with the signature under the conventional `-- ` separator, which mail
    /// clients recognise and dim.
    pub fn signed(&self, text: &str) -> String {
        format!("{}\n\n-- \n{}\n", text.trim_end(), self.signature())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brand(base_url: &str) -> Brand {
        Brand::new("Acme", &Url::parse(base_url).unwrap())
    }

    #[test]
    fn the_site_is_the_host_with_any_port_the_scheme_does_not_imply() {
        assert_eq!(brand("http://localhost:8080").site(), "localhost:8080");
        assert_eq!(brand("https://example.com/").site(), "example.com");
        assert_eq!(brand("https://example.com:443").site(), "example.com");
        assert_eq!(brand("http://[::1]:8080").site(), "[::1]:8080");
    }

    #[test]
    fn links_join_the_base_url_and_the_path() {
        assert_eq!(brand("http://localhost:8080").link("/login"), "http://localhost:8080/login");
        assert_eq!(brand("https://example.com/app/").link("/login"), "https://example.com/app/login");
    }

    #[test]
    fn text_is_signed_with_product_and_site() {
        let signed = brand("http://localhost:8080").signed("Hi,\n\nBody.\n");
        assert_eq!(signed, "Hi,\n\nBody.\n\n-- \nAcme · localhost:8080\n");
    }
}
