//! Spreading the generator over several threads, each pinned to a chosen core, so that
//! on a many-core machine the generator is never what limits a measurement.
//!
//! The work (connections, or connect cycles in progress) is dealt out as evenly as it
//! goes; every thread gets the same start instant, so their measured windows coincide,
//! and the caller adds up what they count.

use std::io;
use std::time::Instant;

#[derive(clap::Args, Clone, Debug)]
pub struct ThreadArgs {
    /// Generator threads; the connections (or, for `connect`, the cycles in progress) are
    /// dealt out among them.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    threads: u16,
    /// Cores to pin the threads to, as `1,2,3` or `1-3` (or both, `0,4-7`); thread i runs
    /// on the i-th core of the list, cycling. Default: not pinned.
    #[arg(long, value_parser = parse_cpus)]
    cpus: Option<CpuList>,
}

/// A list of core numbers, in the order given.
#[derive(Clone, Debug)]
pub struct CpuList(Vec<usize>);

fn parse_cpus(text: &str) -> Result<CpuList, String> {
    let mut cpus = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let number = |s: &str| {
            s.trim()
                .parse::<usize>()
                .map_err(|_| format!("`{s}` in --cpus is not a core number"))
        };
        match part.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (number(from)?, number(to)?);
                if from > to {
                    return Err(format!("--cpus range `{part}` runs backwards"));
                }
                cpus.extend(from..=to);
            }
            None => cpus.push(number(part)?),
        }
    }
    if cpus.is_empty() {
        return Err("--cpus names no core".into());
    }
    Ok(CpuList(cpus))
}

impl ThreadArgs {
    pub fn threads(&self) -> usize {
        usize::from(self.threads)
    }

    /// A short description for the report line: `2 threads on cores 1,2`.
    pub fn describe(&self) -> String {
        let threads = match self.threads {
            1 => "1 thread".to_string(),
            n => format!("{n} threads"),
        };
        match &self.cpus {
            None => threads,
            Some(CpuList(cpus)) => {
                let list: Vec<String> = cpus.iter().map(usize::to_string).collect();
                format!("{threads} on cores {}", list.join(","))
            }
        }
    }

    /// Checks that every core named exists on this machine (before any connection is
    /// opened, so that a typo fails at once).
    pub fn check(&self) -> io::Result<()> {
        let Some(CpuList(cpus)) = &self.cpus else {
            return Ok(());
        };
        let available: Vec<usize> = core_affinity::get_core_ids()
            .ok_or_else(|| io::Error::other("cannot list this machine's cores to pin threads"))?
            .into_iter()
            .map(|core| core.id)
            .collect();
        match cpus.iter().find(|cpu| !available.contains(cpu)) {
            Some(cpu) => Err(io::Error::other(format!(
                "--cpus: core {cpu} is not one this process may run on (it may use {available:?})"
            ))),
            None => Ok(()),
        }
    }

    /// Runs `work(share, start)` on each thread with its share of `items` (dealt out in
    /// turn), every thread pinned as asked and given the same `start`; returns each
    /// thread's result, or the first error.
    pub fn run<I, T, F>(&self, items: Vec<I>, work: F) -> io::Result<Vec<T>>
    where
        I: Send,
        T: Send,
        F: Fn(Vec<I>, Instant) -> io::Result<T> + Sync,
    {
        let threads = self.threads();
        let mut shares: Vec<Vec<I>> = (0..threads).map(|_| Vec::new()).collect();
        for (i, item) in items.into_iter().enumerate() {
            shares[i % threads].push(item);
        }
        let start = Instant::now();
        let work = &work;
        std::thread::scope(|scope| {
            let handles: Vec<_> = shares
                .into_iter()
                .enumerate()
                .map(|(i, share)| {
                    let cpu = self.cpus.as_ref().map(|CpuList(cpus)| cpus[i % cpus.len()]);
                    scope.spawn(move || {
                        if let Some(cpu) = cpu
                            && !core_affinity::set_for_current(core_affinity::CoreId { id: cpu })
                        {
                            return Err(io::Error::other(format!(
                                "could not pin a generator thread to core {cpu}"
                            )));
                        }
                        work(share, start)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|_| Err(io::Error::other("a generator thread panicked")))
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_take_numbers_and_ranges() {
        assert_eq!(parse_cpus("1").unwrap().0, vec![1]);
        assert_eq!(parse_cpus("0,4-6, 9").unwrap().0, vec![0, 4, 5, 6, 9]);
    }

    #[test]
    fn bad_cpu_lists_say_what_is_wrong() {
        assert!(parse_cpus("").unwrap_err().contains("no core"));
        assert!(parse_cpus("3-1").unwrap_err().contains("backwards"));
        assert!(parse_cpus("1,x").unwrap_err().contains("`x`"));
    }

    #[test]
    fn work_is_dealt_out_among_threads() {
        let args = ThreadArgs {
            threads: 3,
            cpus: None,
        };
        let shares = args.run((0..7).collect(), |share, _| Ok(share)).unwrap();
        assert_eq!(shares, vec![vec![0, 3, 6], vec![1, 4], vec![2, 5]]);
    }

    #[test]
    fn a_thread_runs_on_the_core_it_was_pinned_to() {
        let Some(core) = core_affinity::get_core_ids().and_then(|ids| ids.last().copied()) else {
            return; // a system where cores cannot be listed: nothing to pin
        };
        let args = ThreadArgs {
            threads: 1,
            cpus: Some(CpuList(vec![core.id])),
        };
        args.check().unwrap();
        let seen = args
            .run(vec![()], |_, _| {
                let allowed = core_affinity::get_core_ids().unwrap_or_default();
                Ok(allowed.into_iter().map(|c| c.id).collect::<Vec<_>>())
            })
            .unwrap();
        assert_eq!(seen, vec![vec![core.id]]);
    }

    #[test]
    fn a_core_that_does_not_exist_is_refused_before_any_work() {
        let args = ThreadArgs {
            threads: 1,
            cpus: Some(CpuList(vec![100_000])),
        };
        assert!(
            args.check()
                .unwrap_err()
                .to_string()
                .contains("core 100000")
        );
    }
}
