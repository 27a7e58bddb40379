//! One TLS provider for every crate: rustls with ring.

/// Installs ring as rustls' process-wide provider; later calls do nothing.
pub fn install_ring_provider() {
    // Fails only when a provider is already installed, which is the state we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
