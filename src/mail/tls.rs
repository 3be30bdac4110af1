//! TLS client settings shared by the IMAP adapter: rustls with the ring provider, the
//! webpki root store, plus an extra CA file when the config names one (a private CA, or the
//! test rig's).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// Installs ring as the process's rustls provider; harmless when called again.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A rustls client config trusting the public roots and, if given, `ca_file`.
pub fn client_config(ca_file: Option<&Path>) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    install_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        for cert in
            CertificateDer::pem_file_iter(path).with_context(|| format!("reading CA file {}", path.display()))?
        {
            roots.add(cert.with_context(|| format!("parsing CA file {}", path.display()))?)?;
        }
    }
    let config = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    Ok(Arc::new(config))
}

/// Reads a PEM CA file's bytes (for lettre, which takes PEM).
pub fn read_ca(ca_file: Option<&Path>) -> anyhow::Result<Option<Vec<u8>>> {
    ca_file.map(|p| std::fs::read(p).with_context(|| format!("reading CA file {}", p.display()))).transpose()
}
