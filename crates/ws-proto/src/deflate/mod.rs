//! permessage-deflate (RFC 7692): what to offer or accept, the agreement, and (in
//! `codec`) the compression itself.
//!
//! Negotiation is a pure function of the handshake's extension headers:
//! [`DeflateConfig::offer`] builds a client's offer; [`DeflateConfig::accept`] picks the
//! first offer a server can take and builds its answer; [`DeflateConfig::check_answer`]
//! validates a server's answer on the client. The result, [`DeflateParams`], goes to
//! [`Session::with_deflate`](crate::Session::with_deflate).
//!
//! Memory (measured with `ws-load idle --deflate --exchange`, 15-bit windows): a
//! compressor holds about 310 KiB (zlib's hash table, window and block buffers) and a
//! decompressor 20 to 40 KiB (its window, as far as it has been filled), so about
//! 330 KiB per connection that exchanged compressed messages. Both are created when the
//! first compressed message needs them, and freed after each message on a side that has
//! no context takeover, so a connection that never sends compressed messages pays
//! nothing, and one without context takeover pays only while a message is in transit.

mod codec;

use crate::role::Role;
use codec::{Compressor, Decompressor};

use crate::handshake::HandshakeError;
use crate::handshake::{Extension, ExtensionParam};
use crate::local_error::LocalError;

/// The extension's registered name.
pub const NAME: &str = "permessage-deflate";

/// What one side wants from permessage-deflate, and how it compresses.
///
/// The field names are those of RFC 7692 and mean the same on both sides: `server_*`
/// parameters govern what the server sends, `client_*` what the client sends.
///
/// ```
/// use ws_proto::DeflateConfig;
/// let mut config = DeflateConfig::default();
/// config.client_no_context_takeover = true; // ask the client to reset per message
/// assert_eq!(config.offer().to_string(), "permessage-deflate; client_no_context_takeover; client_max_window_bits");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeflateConfig {
    /// The server starts each message with an empty dictionary. A client asks for it; a
    /// server applies it to itself. Default `false` (better compression, and the
    /// server's compressor stays allocated for the connection's life).
    pub server_no_context_takeover: bool,
    /// The client starts each message with an empty dictionary. A client offers it; a
    /// server asks it of the client. Default `false`.
    pub client_no_context_takeover: bool,
    /// The largest LZ77 window the server compresses with, as a power of two (8-15).
    /// A client asks for it when below 15; a server applies it to itself. Default 15.
    pub server_max_window_bits: u8,
    /// The largest window the client compresses with (8-15). A client applies it to
    /// itself; a server imposes it when the client allows. Default 15.
    pub client_max_window_bits: u8,
    /// The compression level, 0 (store) to 9 (smallest). Default 6, zlib's default. Level
    /// 1 compresses 64-byte messages about 12 times faster and large ones about 4 times
    /// faster, for 15% to 60% more bytes on the wire (`benches/deflate.rs`).
    pub level: u32,
    /// Messages shorter than this are sent uncompressed (RFC 7692 allows either per
    /// message): compressing a few bytes costs time and rarely saves any. Default 32.
    pub min_size: usize,
}

impl Default for DeflateConfig {
    fn default() -> DeflateConfig {
        DeflateConfig {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
            level: 6,
            min_size: 32,
        }
    }
}

/// What both sides agreed to, as negotiated in the handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateParams {
    /// The server resets its compression context after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compression context after each message.
    pub client_no_context_takeover: bool,
    /// The server's largest window (8-15).
    pub server_max_window_bits: u8,
    /// The client's largest window (8-15).
    pub client_max_window_bits: u8,
    /// The compression level of this side (not negotiated).
    pub level: u32,
    /// This side's threshold for compressing a message (not negotiated).
    pub min_size: usize,
}

/// A session's compression state for both directions, from the agreement and its role.
pub(crate) struct Deflate {
    pub compressor: Compressor,
    pub decompressor: Decompressor,
    pub min_size: usize,
}

impl Deflate {
    pub(crate) fn new(params: &DeflateParams, role: Role) -> Deflate {
        let server = (
            params.server_max_window_bits,
            params.server_no_context_takeover,
        );
        let client = (
            params.client_max_window_bits,
            params.client_no_context_takeover,
        );
        let (ours, theirs) = match role {
            Role::Server => (server, client),
            Role::Client => (client, server),
        };
        Deflate {
            compressor: Compressor::new(ours.0, params.level, ours.1),
            decompressor: Decompressor::new(theirs.0, theirs.1),
            min_size: params.min_size,
        }
    }
}

impl std::fmt::Debug for Deflate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflate")
            .field("min_size", &self.min_size)
            .finish_non_exhaustive()
    }
}

/// The parameters of one offer or answer, checked against RFC 7692 7.1.
#[derive(Default)]
struct Parsed {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: present without a value (only valid in an offer).
    client_max_window_bits: Option<Option<u8>>,
}

/// RFC 7692 7.1.2: a window size is a decimal integer from 8 to 15, no leading zero.
fn window_bits(value: Option<&str>) -> Result<Option<u8>, &'static str> {
    match value {
        None => Ok(None),
        Some(v) if v.len() <= 2 && !v.starts_with('0') => match v.parse::<u8>() {
            Ok(bits @ 8..=15) => Ok(Some(bits)),
            _ => Err("window bits outside 8-15"),
        },
        Some(_) => Err("window bits outside 8-15"),
    }
}

impl Parsed {
    fn from_params(params: &[ExtensionParam]) -> Result<Parsed, &'static str> {
        let mut parsed = Parsed::default();
        let mut seen: Vec<&str> = Vec::new();
        for param in params {
            if seen.contains(&param.name.as_str()) {
                return Err("a parameter appears twice");
            }
            seen.push(&param.name);
            let value = param.value.as_deref();
            match param.name.as_str() {
                "server_no_context_takeover" | "client_no_context_takeover" if value.is_some() => {
                    return Err("no_context_takeover takes no value");
                }
                "server_no_context_takeover" => parsed.server_no_context_takeover = true,
                "client_no_context_takeover" => parsed.client_no_context_takeover = true,
                "server_max_window_bits" => {
                    parsed.server_max_window_bits =
                        Some(window_bits(value)?.ok_or("server_max_window_bits needs a value")?);
                }
                "client_max_window_bits" => {
                    parsed.client_max_window_bits = Some(window_bits(value)?)
                }
                _ => return Err("unknown parameter"),
            }
        }
        Ok(parsed)
    }
}

impl DeflateConfig {
    fn check(&self) -> Result<(), LocalError> {
        let ok = (8..=15).contains(&self.server_max_window_bits)
            && (8..=15).contains(&self.client_max_window_bits)
            && self.level <= 9;
        if ok {
            Ok(())
        } else {
            Err(LocalError::InvalidDeflateConfig(
                "window bits must be 8-15 and the level 0-9 (RFC 7692 7.1.2)",
            ))
        }
    }

    /// A client's offer.
    pub fn offer(&self) -> Extension {
        let mut offer = Extension::new(NAME);
        if self.server_no_context_takeover {
            offer = offer.param("server_no_context_takeover", None);
        }
        if self.client_no_context_takeover {
            offer = offer.param("client_no_context_takeover", None);
        }
        if self.server_max_window_bits < 15 {
            offer = offer.param(
                "server_max_window_bits",
                Some(&self.server_max_window_bits.to_string()),
            );
        }
        // Always present, so that a server may limit our window (RFC 7692 7.1.2.2).
        let value =
            (self.client_max_window_bits < 15).then(|| self.client_max_window_bits.to_string());
        offer.param("client_max_window_bits", value.as_deref())
    }

    /// A server's choice among a client's offers: the first valid permessage-deflate
    /// offer (RFC 7692 5.1: offers the server cannot accept are declined, not errors),
    /// with the answer to send, or `None` to go without compression.
    ///
    /// ```
    /// use ws_proto::DeflateConfig;
    /// use ws_proto::handshake::parse_extensions;
    /// let offers = parse_extensions("permessage-deflate; server_max_window_bits=10; client_max_window_bits")?;
    /// let (params, answer) = DeflateConfig::default().accept(&offers).unwrap();
    /// assert_eq!(params.server_max_window_bits, 10);
    /// assert_eq!(answer.to_string(), "permessage-deflate; server_max_window_bits=10");
    /// # Ok::<(), ws_proto::Error>(())
    /// ```
    pub fn accept(&self, offers: &[Extension]) -> Option<(DeflateParams, Extension)> {
        self.check().ok()?;
        offers
            .iter()
            .filter(|offer| offer.name == NAME)
            .find_map(|offer| Parsed::from_params(&offer.params).ok())
            .map(|offered| self.answer(offered))
    }

    fn answer(&self, offered: Parsed) -> (DeflateParams, Extension) {
        let mut answer = Extension::new(NAME);
        let server_no_context_takeover =
            offered.server_no_context_takeover || self.server_no_context_takeover;
        let client_no_context_takeover =
            offered.client_no_context_takeover || self.client_no_context_takeover;
        if server_no_context_takeover {
            answer = answer.param("server_no_context_takeover", None);
        }
        if client_no_context_takeover {
            answer = answer.param("client_no_context_takeover", None);
        }
        // Our own window: what the client asked for, or less if we prefer.
        let server_bits = offered
            .server_max_window_bits
            .unwrap_or(15)
            .min(self.server_max_window_bits);
        if offered.server_max_window_bits.is_some() || server_bits < 15 {
            answer = answer.param("server_max_window_bits", Some(&server_bits.to_string()));
        }
        // The client's window: only limited if it said it could be.
        let client_bits = match offered.client_max_window_bits {
            Some(value) => {
                let bits = value.unwrap_or(15).min(self.client_max_window_bits);
                if bits < 15 {
                    answer = answer.param("client_max_window_bits", Some(&bits.to_string()));
                }
                bits
            }
            None => 15,
        };
        let params = DeflateParams {
            server_no_context_takeover,
            client_no_context_takeover,
            server_max_window_bits: server_bits,
            client_max_window_bits: client_bits,
            level: self.level,
            min_size: self.min_size,
        };
        (params, answer)
    }

    /// A client's check of the server's answer to [`offer`](Self::offer): `Ok(None)` if
    /// the server declined compression.
    ///
    /// # Errors
    ///
    /// [`HandshakeError::DeflateNegotiation`], whose message names the rule, when the answer
    /// breaks RFC 7692 7.1: permessage-deflate answered twice, a parameter that is unknown,
    /// repeated, or with a value it may not have, `server_max_window_bits` above what was
    /// offered, `server_no_context_takeover` asked for and not granted, or
    /// `client_max_window_bits` without a value or above what was offered. The client then
    /// fails the connection (RFC 7692 7).
    pub fn check_answer(
        &self,
        extensions: &[Extension],
    ) -> Result<Option<DeflateParams>, HandshakeError> {
        let mut answers = extensions.iter().filter(|e| e.name == NAME);
        let Some(answer) = answers.next() else {
            return Ok(None);
        };
        if answers.next().is_some() {
            return Err(HandshakeError::DeflateNegotiation(
                "the server answered permessage-deflate twice",
            ));
        }
        let answered =
            Parsed::from_params(&answer.params).map_err(HandshakeError::DeflateNegotiation)?;
        let server_bits = answered.server_max_window_bits.unwrap_or(15);
        if server_bits > self.server_max_window_bits {
            return Err(HandshakeError::DeflateNegotiation(
                "server_max_window_bits above what was offered",
            ));
        }
        if self.server_no_context_takeover && !answered.server_no_context_takeover {
            return Err(HandshakeError::DeflateNegotiation(
                "server_no_context_takeover was asked for and not granted",
            ));
        }
        let client_bits = match answered.client_max_window_bits {
            None => self.client_max_window_bits,
            Some(None) => {
                return Err(HandshakeError::DeflateNegotiation(
                    "client_max_window_bits needs a value in an answer",
                ));
            }
            Some(Some(bits)) if bits > self.client_max_window_bits => {
                return Err(HandshakeError::DeflateNegotiation(
                    "client_max_window_bits above what was offered",
                ));
            }
            Some(Some(bits)) => bits,
        };
        Ok(Some(DeflateParams {
            server_no_context_takeover: answered.server_no_context_takeover,
            client_no_context_takeover: answered.client_no_context_takeover
                || self.client_no_context_takeover,
            server_max_window_bits: server_bits,
            client_max_window_bits: client_bits,
            level: self.level,
            min_size: self.min_size,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::parse_extensions;

    fn accept(config: &DeflateConfig, header: &str) -> Option<(DeflateParams, String)> {
        config
            .accept(&parse_extensions(header).unwrap())
            .map(|(p, a)| (p, a.to_string()))
    }

    #[test]
    fn server_takes_the_first_valid_offer() {
        let config = DeflateConfig::default();
        let (params, answer) = accept(
            &config,
            "permessage-deflate; server_max_window_bits=7, permessage-deflate; bogus, \
             permessage-deflate; client_no_context_takeover; client_max_window_bits=9",
        )
        .unwrap();
        assert_eq!(
            answer,
            "permessage-deflate; client_no_context_takeover; client_max_window_bits=9"
        );
        assert!(params.client_no_context_takeover && !params.server_no_context_takeover);
        assert_eq!(
            (params.server_max_window_bits, params.client_max_window_bits),
            (15, 9)
        );
    }

    #[test]
    fn server_declines_invalid_offers_and_other_extensions() {
        let config = DeflateConfig::default();
        for header in [
            "x-webkit-deflate-frame",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=08",
            "permessage-deflate; client_max_window_bits=7",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; mystery",
        ] {
            assert!(
                accept(&config, header).is_none(),
                "{header} should be declined"
            );
        }
    }

    #[test]
    fn server_applies_its_own_preferences() {
        let config = DeflateConfig {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: 10,
            client_max_window_bits: 12,
            ..DeflateConfig::default()
        };
        let (params, answer) =
            accept(&config, "permessage-deflate; client_max_window_bits").unwrap();
        assert_eq!(
            answer,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=10; client_max_window_bits=12"
        );
        assert_eq!(
            (params.server_max_window_bits, params.client_max_window_bits),
            (10, 12)
        );
        // Without client_max_window_bits in the offer, the client's window is not limited.
        let (params, answer) = accept(&config, "permessage-deflate").unwrap();
        assert!(!answer.contains("client_max_window_bits"));
        assert_eq!(params.client_max_window_bits, 15);
    }

    #[test]
    fn client_checks_the_answer() {
        let config = DeflateConfig {
            server_max_window_bits: 12,
            ..DeflateConfig::default()
        };
        let check = |answer: &str| config.check_answer(&parse_extensions(answer).unwrap());
        let params =
            check("permessage-deflate; server_max_window_bits=10; client_max_window_bits=9")
                .unwrap()
                .unwrap();
        assert_eq!(
            (params.server_max_window_bits, params.client_max_window_bits),
            (10, 9)
        );
        assert!(check("x-other").unwrap().is_none());
        for bad in [
            "permessage-deflate; server_max_window_bits=13",
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; client_max_window_bits=16",
            "permessage-deflate; unknown",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate, permessage-deflate",
        ] {
            assert!(
                matches!(check(bad), Err(HandshakeError::DeflateNegotiation(_))),
                "{bad} should fail"
            );
        }
        let asking = DeflateConfig {
            server_no_context_takeover: true,
            ..DeflateConfig::default()
        };
        assert!(
            asking
                .check_answer(&parse_extensions("permessage-deflate").unwrap())
                .is_err()
        );
    }

    #[test]
    fn offer_and_accept_agree() {
        let client = DeflateConfig {
            server_no_context_takeover: true,
            client_max_window_bits: 10,
            ..DeflateConfig::default()
        };
        let server = DeflateConfig::default();
        let (server_params, answer) = server.accept(&[client.offer()]).unwrap();
        let client_params = client.check_answer(&[answer]).unwrap().unwrap();
        assert_eq!(
            (
                server_params.server_no_context_takeover,
                server_params.client_max_window_bits
            ),
            (
                client_params.server_no_context_takeover,
                client_params.client_max_window_bits
            )
        );
        assert_eq!(client_params.client_max_window_bits, 10);
    }
}
