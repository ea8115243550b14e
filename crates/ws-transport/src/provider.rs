//! Which rustls crypto provider the workspace's TLS uses, chosen by cargo features.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

/// The crypto provider for every TLS configuration this workspace builds (client and
/// server):
///
/// | features | provider |
/// |---|---|
/// | `ring` (the default) | `ring` |
/// | `aws-lc-rs` (with or without `ring`) | `aws-lc-rs` |
/// | neither | the process-wide default the application installed with [`CryptoProvider::install_default`] |
///
/// # Errors
///
/// [`rustls::Error::General`] when neither feature is on and no process-wide default is
/// installed, saying how to get one.
pub fn crypto_provider() -> Result<Arc<CryptoProvider>, rustls::Error> {
    #[cfg(feature = "aws-lc-rs")]
    {
        Ok(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
    }
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    {
        Ok(Arc::new(rustls::crypto::ring::default_provider()))
    }
    #[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
    {
        CryptoProvider::get_default().cloned().ok_or_else(|| {
            rustls::Error::General(
                "no TLS crypto provider: enable the `ring` or `aws-lc-rs` feature, or install \
                 one with rustls::crypto::CryptoProvider::install_default"
                    .into(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_is_chosen_by_the_default_features() {
        let provider = crypto_provider().expect("the default features pick one");
        assert!(!provider.cipher_suites.is_empty());
    }
}
