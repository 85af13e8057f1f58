//! A handful of read connections, reused. Pool crates for SQLite pin an older rusqlite, and
//! this is all we need of one.

use super::{connect, Result};
use rusqlite::Connection;
use std::ops::{Deref, DerefMut};
use std::path::PathBuf;
use std::sync::Mutex;

/// Idle connections kept; more are opened under load and closed when returned.
const KEEP_IDLE: usize = 8;

pub struct Pool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Pool {
    pub fn new(path: PathBuf) -> Pool {
        Pool {
            path,
            idle: Mutex::new(Vec::new()),
        }
    }

    pub fn get(&self) -> Result<Pooled<'_>> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match idle {
            Some(c) => c,
            None => connect(&self.path)?,
        };
        Ok(Pooled {
            pool: self,
            conn: Some(conn),
        })
    }
}

pub struct Pooled<'a> {
    pool: &'a Pool,
    conn: Option<Connection>,
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            let mut idle = self.pool.idle.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < KEEP_IDLE {
                idle.push(c);
            }
        }
    }
}

impl Deref for Pooled<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        // Present from `get` until `drop`.
        self.conn.as_ref().expect("pooled connection")
    }
}

impl DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn.as_mut().expect("pooled connection")
    }
}
