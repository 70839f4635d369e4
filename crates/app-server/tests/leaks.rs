//! No leaks: 1,000 acquire/release cycles mixed with injected faults leave 0 stray processes and
//! 0 leases. Its own test binary, so every child of this process belongs to this test.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use openclaw_rs_app_server::{Pool, PoolConfig};
use tokio::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_cycles_with_faults_leave_nothing_behind() {
    tokio::time::timeout(Duration::from_secs(240), async {
        let dir = tempfile::tempdir().unwrap();
        let healthy = fake_key(&["--crash-model", "crash", "--hang-model", "hang"]);
        let slow = fake_key(&["--slow-start-ms", "2000"]);
        let pool = Pool::new(PoolConfig {
            idle_grace: Duration::from_millis(50),
            interrupt_timeout: Duration::from_millis(500),
            ..PoolConfig::default()
        });
        let mut seen = BTreeSet::new();
        let long = Instant::now() + Duration::from_secs(60);
        for i in 0..1000u32 {
            // Four concurrent holders per cycle exercise shared leases.
            let mut leases = Vec::new();
            for _ in 0..4 {
                leases.push(pool.acquire(&healthy, long).await.expect("acquire"));
            }
            seen.insert(leases[0].pid());
            match i % 100 {
                10 => kill9(leases[0].pid()),
                30 => leases[1].retire_wedged("injected: wedged"),
                50 => leases[2].retire(),
                70 => {
                    drop(leases);
                    leases = Vec::new();
                    let (res, _) = run(
                        &pool,
                        &healthy,
                        spec("x", Some("crash"), dir.path(), Duration::from_secs(30)),
                    )
                    .await;
                    assert!(res.is_err(), "crash model fails");
                }
                80 => {
                    drop(leases);
                    leases = Vec::new();
                    let (res, _) = run(
                        &pool,
                        &healthy,
                        spec("x", Some("hang"), dir.path(), Duration::from_millis(50)),
                    )
                    .await;
                    assert!(res.is_err(), "hang model times out");
                }
                90 => {
                    // A stalled startup abandoned by its only waiter.
                    let err = pool
                        .acquire(&slow, Instant::now() + Duration::from_millis(20))
                        .await;
                    assert!(err.is_err());
                }
                _ => {}
            }
            drop(leases);
            if i % 250 == 0 {
                // Let idle processes expire now and then, so respawn after idle is covered too.
                tokio::time::sleep(Duration::from_millis(120)).await;
            }
        }
        assert!(
            seen.len() > 10,
            "faults forced respawns: {} processes",
            seen.len()
        );
        let stats = pool.stats();
        assert_eq!(stats.ledger.leases, 0, "{stats:?}");
        assert_eq!(stats.ledger.pending, 0, "{stats:?}");
        pool.shutdown().await;
        assert!(pool.live_pids().is_empty());
        let stray = our_children();
        assert!(stray.is_empty(), "stray child processes: {stray:?}");
        for pid in seen {
            assert!(!pid_alive(pid), "pid {pid} still alive");
        }
    })
    .await
    .expect("hang guard");
}
