//! Watched file descriptors (Perl's `watch_readable` / `watch_writable`).
//!
//! The poller is edge-triggered, but Perl's watchers are level-triggered (its loop is
//! `select`): a callback that leaves data unread is called again. After each callback
//! the descriptor is re-registered, which makes epoll report it again if it is still
//! ready, so the callbacks here keep Perl's semantics.

use std::collections::HashMap;
use std::io;
use std::os::fd::RawFd;

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

/// Tokens at and above this value are watched descriptors; below it, connections.
pub(crate) const WATCH_BASE: usize = 1 << 40;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Readable,
    Writable,
}

struct Watch<F> {
    readable: Option<F>,
    writable: Option<F>,
}

impl<F> Default for Watch<F> {
    fn default() -> Self {
        Watch {
            readable: None,
            writable: None,
        }
    }
}

impl<F> Watch<F> {
    fn slot(&mut self, direction: Direction) -> &mut Option<F> {
        match direction {
            Direction::Readable => &mut self.readable,
            Direction::Writable => &mut self.writable,
        }
    }

    /// What the poller should report for this descriptor.
    fn interest(&self) -> Option<Interest> {
        match (self.readable.is_some(), self.writable.is_some()) {
            (true, true) => Some(Interest::READABLE | Interest::WRITABLE),
            (true, false) => Some(Interest::READABLE),
            (false, true) => Some(Interest::WRITABLE),
            (false, false) => None,
        }
    }
}

/// The watched descriptors and their callbacks (of type `F`).
pub(crate) struct Watchers<F> {
    map: HashMap<RawFd, Watch<F>>,
    /// Callbacks currently running, taken out of `map`; they go back unless unwatched.
    running: Vec<(RawFd, Direction)>,
}

pub(crate) fn token(fd: RawFd) -> Token {
    Token(WATCH_BASE + fd as usize)
}

pub(crate) fn fd_of(token: Token) -> Option<RawFd> {
    token
        .0
        .checked_sub(WATCH_BASE)
        .and_then(|fd| RawFd::try_from(fd).ok())
}

impl<F> Default for Watchers<F> {
    fn default() -> Self {
        Watchers {
            map: HashMap::new(),
            running: Vec::new(),
        }
    }
}

impl<F> Watchers<F> {
    pub(crate) fn watch(
        &mut self,
        registry: &Registry,
        fd: RawFd,
        direction: Direction,
        callback: F,
    ) -> io::Result<()> {
        let is_new = !self.map.contains_key(&fd);
        let watch = self.map.entry(fd).or_default();
        let previous = watch.slot(direction).replace(callback);
        let interest = watch.interest().unwrap_or(Interest::READABLE);
        let result = if is_new {
            registry.register(&mut SourceFd(&fd), token(fd), interest)
        } else {
            registry.reregister(&mut SourceFd(&fd), token(fd), interest)
        };
        if let Err(err) = result {
            // Leave things as they were.
            match previous {
                Some(previous) => *watch.slot(direction) = Some(previous),
                None => *watch.slot(direction) = None,
            }
            if is_new {
                self.map.remove(&fd);
            }
            return Err(err);
        }
        self.running.retain(|&(f, d)| (f, d) != (fd, direction));
        Ok(())
    }

    pub(crate) fn unwatch(&mut self, registry: &Registry, fd: RawFd, direction: Direction) {
        self.running.retain(|&(f, d)| (f, d) != (fd, direction));
        let Some(watch) = self.map.get_mut(&fd) else {
            return;
        };
        *watch.slot(direction) = None;
        let still_running = self.running.iter().any(|&(f, _)| f == fd);
        match watch.interest() {
            Some(interest) => {
                let _ = registry.reregister(&mut SourceFd(&fd), token(fd), interest);
            }
            None if !still_running => {
                self.map.remove(&fd);
                let _ = registry.deregister(&mut SourceFd(&fd));
            }
            None => {}
        }
    }

    pub(crate) fn watched(&self, direction: Direction) -> Vec<RawFd> {
        let mut fds: Vec<RawFd> = self
            .map
            .iter()
            .filter(|(fd, w)| match direction {
                Direction::Readable => w.readable.is_some(),
                Direction::Writable => w.writable.is_some(),
            } || self.running.contains(&(**fd, direction)))
            .map(|(fd, _)| *fd)
            .collect();
        fds.sort_unstable();
        fds
    }

    pub(crate) fn is_watched(&self, fd: RawFd, direction: Direction) -> bool {
        self.watched(direction).contains(&fd)
    }

    /// Takes a callback out to run it.
    pub(crate) fn take(&mut self, fd: RawFd, direction: Direction) -> Option<F> {
        let callback = self.map.get_mut(&fd)?.slot(direction).take()?;
        self.running.push((fd, direction));
        Some(callback)
    }

    /// Puts a callback back after it ran, unless it was unwatched or replaced meanwhile,
    /// and re-arms the descriptor so that it is reported again while still ready.
    pub(crate) fn put_back(
        &mut self,
        registry: &Registry,
        fd: RawFd,
        direction: Direction,
        callback: F,
    ) {
        let Some(at) = self
            .running
            .iter()
            .position(|&entry| entry == (fd, direction))
        else {
            self.cleanup(registry, fd);
            return;
        };
        self.running.swap_remove(at);
        let Some(watch) = self.map.get_mut(&fd) else {
            return;
        };
        let place = watch.slot(direction);
        if place.is_none() {
            *place = Some(callback);
        }
        if let Some(interest) = watch.interest() {
            let _ = registry.reregister(&mut SourceFd(&fd), token(fd), interest);
        }
    }

    /// Forgets a descriptor whose callbacks were all unwatched while running.
    fn cleanup(&mut self, registry: &Registry, fd: RawFd) {
        let idle = self.map.get(&fd).is_some_and(|w| w.interest().is_none());
        if idle && !self.running.iter().any(|&(f, _)| f == fd) {
            self.map.remove(&fd);
            let _ = registry.deregister(&mut SourceFd(&fd));
        }
    }
}
