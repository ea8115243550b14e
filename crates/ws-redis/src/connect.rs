//! Opening a connection to Redis with a deadline on the connect and on every later read
//! and write.

use redis::{Client, Connection, RedisResult};

use crate::config::Config;

/// A connection to the configured Redis: the TCP connect and the connection's set-up
/// (AUTH, SELECT) within `connect_timeout`, then every read and write within `io_timeout`.
pub(crate) fn connect(client: &Client, config: &Config) -> RedisResult<Connection> {
    let connection = client.get_connection_with_timeout(config.connect_timeout)?;
    connection.set_read_timeout(Some(config.io_timeout))?;
    connection.set_write_timeout(Some(config.io_timeout))?;
    Ok(connection)
}
