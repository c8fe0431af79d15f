//! The threads that hash passwords: the hasher's own, one per concurrent hash, at the
//! lowest CPU priority the system offers.
//!
//! A login storm keeps every hashing thread busy for tens of milliseconds per login.
//! On tokio's blocking pool those threads compete with the async workers as equals,
//! so with one core per hash the workers get about half the CPU and every other
//! request slows down with the storm. Here each thread lowers its own priority once,
//! to Linux's `SCHED_IDLE`: a worker that wakes up takes the core from a hashing
//! thread at once, instead of waiting out its time slice (with `nice` +10, measured:
//! `GET /api/data` p99 3.9× idle under a storm on one core, milliseconds of argon2
//! ahead of each request). Logins take the CPU the other requests leave, which is all
//! of it when nothing else runs; how long a login may wait for it is bounded by the
//! hasher's `max_wait`. Where `SCHED_IDLE` is refused, the thread falls back to `nice`
//! +10. Only these threads are lowered: other blocking work of the service keeps its
//! priority.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{Arc, Mutex, PoisonError, mpsc},
};

type Job = Box<dyn FnOnce() + Send>;

/// How much lower than the rest of the process the hashing threads run (`nice`) where
/// `SCHED_IDLE` is refused.
pub(super) const NICE_INCREMENT: i32 = 10;

/// A fixed set of threads running hashing jobs in arrival order. Dropping the last
/// handle lets the threads finish their jobs and exit.
pub(super) struct HashPool {
    jobs: mpsc::Sender<Job>,
}

impl HashPool {
    /// Starts `threads` threads (at least one).
    pub(super) fn new(threads: usize) -> std::io::Result<HashPool> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..threads.max(1) {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("secure-api-hash-{index}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        match job {
                            // A panicking job drops its answer (the caller gets an
                            // error); the thread lives on.
                            Ok(job) => drop(catch_unwind(AssertUnwindSafe(job))),
                            Err(_) => return,
                        }
                    }
                })?;
        }
        Ok(HashPool { jobs })
    }

    /// Runs `work` on one of the threads; `None` when it panicked.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            // A caller that gave up while the job queued wants no answer: skip the work.
            if !answer.is_closed() {
                let _ = answer.send(work());
            }
        });
        self.jobs.send(job).ok()?;
        answered.await.ok()
    }
}

/// Lowers the calling thread's CPU priority: `SCHED_IDLE`, or `nice` +
/// [`NICE_INCREMENT`] where that is refused. Linux only, where both calls act on the
/// calling thread alone (elsewhere `setpriority` would lower the whole process, so
/// nothing is done).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain system calls on the calling thread; `param` outlives the call.
    unsafe {
        let param = libc::sched_param { sched_priority: 0 };
        if libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) == 0 {
            return;
        }
        let current = libc::getpriority(libc::PRIO_PROCESS, 0);
        let lowered = (current + NICE_INCREMENT).min(19);
        if libc::setpriority(libc::PRIO_PROCESS, 0, lowered) != 0 {
            tracing::debug!("the password hashing threads keep their priority");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_on_named_threads_of_idle_priority() {
        let pool = HashPool::new(2).unwrap();
        let name = pool
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert!(name.unwrap().starts_with("secure-api-hash-"));
        #[cfg(target_os = "linux")]
        {
            // SAFETY: reads the calling thread's policy.
            let ours = unsafe { libc::sched_getscheduler(0) };
            assert_eq!(ours, libc::SCHED_OTHER, "the caller keeps its policy");
            // SAFETY: as above, on a hashing thread, with its `nice` value.
            let (policy, nice) = pool
                .run(|| unsafe {
                    (
                        libc::sched_getscheduler(0),
                        libc::getpriority(libc::PRIO_PROCESS, 0),
                    )
                })
                .await
                .unwrap();
            // SAFETY: reads the calling thread's priority.
            let our_nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
            // `SCHED_IDLE` where the system allows it (a seccomp profile may not): then
            // `nice` +10 at least.
            assert!(
                policy == libc::SCHED_IDLE || nice >= (our_nice + NICE_INCREMENT).min(19),
                "policy {policy}, nice {nice}"
            );
        }
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_and_the_threads_live_on() {
        let pool = HashPool::new(1).unwrap();
        assert_eq!(pool.run(|| -> u8 { panic!("boom") }).await, None);
        assert_eq!(pool.run(|| 7).await, Some(7));
    }
}
