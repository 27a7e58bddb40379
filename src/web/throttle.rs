//! Per-client-IP throttle for the sample app's state-changing requests.
//!
//! The email-code forms are the obvious targets for abuse: guessing a six-digit code by brute
//! force, and using the "send me a code" form to spam someone else's inbox (and burn our mail
//! reputation). The challenge service limits attempts per challenge; this throttle adds a cheap
//! outer guard per client address so one host cannot hammer the forms at all.
//!
//! Mount it as `from_fn` middleware with the [`Throttle`] in app data:
//!
//! ```no_run
//! use actix_web::{App, middleware::from_fn, web};
//! use mailbox::web::throttle::{self, Throttle};
//!
//! let throttle = Throttle::default();
//! // Once, outside the per-worker app factory, inside the Tokio/actix runtime:
//! // let _cleanup = throttle.spawn_cleanup(std::time::Duration::from_secs(60));
//! let app = App::new().app_data(web::Data::new(throttle.clone())).wrap(from_fn(throttle::limit_posts));
//! ```

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::{Arc, Weak};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{Error, web};
use governor::clock::Clock as _;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::client_ip::TrustedProxies;
use super::too_many_requests;

/// A keyed GCRA rate limiter, one bucket per client address.
///
/// Cloning is cheap and every clone shares the same buckets, so the clones handed to each actix
/// worker all count against the same budget.
///
/// Forms and passkey ceremony starts have a budget each: a page with passkey autofill starts a
/// ceremony as it opens, and opening a page must not spend what its form needs.
#[derive(Clone)]
pub struct Throttle {
    forms: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    ceremony_starts: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    proxies: Arc<TrustedProxies>,
}

impl Throttle {
    /// Allows `per_minute` requests per minute per client on average, with bursts of up to
    /// `burst` back-to-back requests (a person submitting a form, mistyping a code and
    /// resubmitting should never notice the throttle).
    pub fn new(per_minute: NonZeroU32, burst: NonZeroU32) -> Self {
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        Self {
            forms: Arc::new(RateLimiter::keyed(quota)),
            ceremony_starts: Arc::new(RateLimiter::keyed(quota)),
            proxies: Arc::default(),
        }
    }

    /// Reads the client's address from the forwarding headers of these proxies.
    pub fn behind(self, proxies: TrustedProxies) -> Self {
        Self { proxies: Arc::new(proxies), ..self }
    }

    /// Spawns a Tokio task that periodically drops the buckets of clients that are back to a full
    /// burst (indistinguishable from a fresh bucket, so forgetting them changes nothing) and
    /// releases the freed memory. Without it the map grows with every distinct address ever seen.
    ///
    /// The task only holds a weak reference, so it ends by itself once every clone of this
    /// throttle is dropped; abort the returned handle to stop it earlier.
    ///
    /// Must be called from within a Tokio runtime (e.g. inside `#[actix_web::main]`), once per
    /// throttle rather than once per worker.
    ///
    /// # Panics
    ///
    /// Panics if `every` is zero.
    pub fn spawn_cleanup(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let limiters: [Weak<DefaultKeyedRateLimiter<IpAddr>>; 2] =
            [Arc::downgrade(&self.forms), Arc::downgrade(&self.ceremony_starts)];
        let mut ticks = tokio::time::interval(every);
        // After a stall, one sweep covers everything; catching up with a burst of sweeps is waste.
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::spawn(async move {
            // The first tick completes immediately and there is nothing to clean up yet.
            ticks.tick().await;
            loop {
                ticks.tick().await;
                for limiter in &limiters {
                    let Some(limiter) = limiter.upgrade() else { return };
                    limiter.retain_recent();
                    limiter.shrink_to_fit();
                }
            }
        })
    }

    /// Counts one request to `path` from `ip`; on refusal returns how long the client must wait.
    fn check(&self, path: &str, ip: IpAddr) -> Result<(), Duration> {
        let is_ceremony_start = path.starts_with("/passkeys/") && path.ends_with("/start");
        let limiter = if is_ceremony_start { &self.ceremony_starts } else { &self.forms };
        limiter.check_key(&client_key(ip)).map_err(|not_until| not_until.wait_time_from(limiter.clock().now()))
    }
}

impl Default for Throttle {
    /// 30 requests a minute with bursts of 10: generous for a person, useless for brute force.
    fn default() -> Self {
        const PER_MINUTE: NonZeroU32 = NonZeroU32::new(30).unwrap();
        const BURST: NonZeroU32 = NonZeroU32::new(10).unwrap();
        Self::new(PER_MINUTE, BURST)
    }
}

/// `from_fn` middleware: counts every request that is not GET, HEAD or OPTIONS against the
/// client's budget in the `web::Data<Throttle>` app data, and answers 429 once it is spent.
///
/// See the module docs for how to mount it.
///
/// Safe methods pass untouched: they change nothing and cost nothing worth guarding, and
/// throttling them would only break page loads for people behind a shared address.
pub async fn limit_posts<B: MessageBody>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    }

    let Some(throttle) = req.app_data::<web::Data<Throttle>>() else {
        // A missing throttle is a wiring bug; failing closed makes it visible at the first POST
        // instead of silently leaving the forms unguarded.
        tracing::error!("throttle::limit_posts is mounted but no web::Data<Throttle> is registered");
        return Err(actix_web::error::ErrorInternalServerError("rate limiter not configured"));
    };

    let ip = throttle.proxies.client(req.peer_addr(), req.headers());
    match throttle.check(req.path(), ip) {
        Ok(()) => next.call(req).await.map(ServiceResponse::map_into_left_body),
        Err(wait) => {
            tracing::debug!(%ip, ?wait, "throttled");
            let response = too_many_requests::answer(&mut req, retry_after_secs(wait)).await;
            Ok(req.into_response(response).map_into_right_body())
        }
    }
}

/// The bucket a client address counts against.
///
/// IPv4-mapped IPv6 addresses (from dual-stack sockets) are folded into their IPv4 form so one
/// client cannot get two budgets. Native IPv6 addresses are cut to their /64: that is the usual
/// single-subscriber allocation, and any host on it can pick from 2^64 addresses at will, so
/// keying by full address would give an attacker an unlimited supply of fresh budgets.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !((1u128 << 64) - 1))),
        v4 => v4,
    }
}

/// Whole seconds for `Retry-After`, rounded up (retrying early would just be refused again) and
/// at least 1 (0 would invite an immediate retry).
fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, SocketAddr};

    use actix_web::http::{StatusCode, header};
    use actix_web::middleware::from_fn;
    use actix_web::{App, HttpResponse, test, web};

    use super::*;

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    // A macro rather than a function: the service type from `init_service` is an `impl Service<Request>`
    // whose `Request` type lives in actix-http, which this crate does not depend on directly.
    macro_rules! app {
        ($throttle:expr) => {
            test::init_service(
                App::new()
                    .app_data(web::Data::new($throttle))
                    .wrap(from_fn(limit_posts))
                    .route("/", web::get().to(|| async { HttpResponse::Ok().body("page") }))
                    .route("/", web::post().to(|| async { HttpResponse::Ok().body("posted") })),
            )
            .await
        };
    }

    fn peer(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[actix_web::test]
    async fn burst_passes_then_429_with_retry_after_and_html() {
        let app = app!(Throttle::default());
        let from = peer("203.0.113.7:40000");

        for i in 0..10 {
            let res = test::call_service(&app, test::TestRequest::post().uri("/").peer_addr(from).to_request()).await;
            assert_eq!(res.status(), StatusCode::OK, "request {i} of the burst");
        }

        let res = test::call_service(&app, test::TestRequest::post().uri("/").peer_addr(from).to_request()).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry_after: u64 = res.headers().get(header::RETRY_AFTER).unwrap().to_str().unwrap().parse().unwrap();
        assert!(retry_after >= 1, "Retry-After {retry_after}");
        assert_eq!(res.headers().get(header::CONTENT_TYPE).unwrap(), "text/html; charset=utf-8");
        let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
        assert!(body.contains("<h1>Too many requests</h1>"), "{body}");
        assert!(body.contains("You can try again in "), "{body}");
    }

    #[actix_web::test]
    async fn safe_methods_are_never_limited_or_counted() {
        let app = app!(Throttle::new(nz(1), nz(1)));
        let from = peer("198.51.100.1:1234");

        for _ in 0..50 {
            let res = test::call_service(&app, test::TestRequest::get().uri("/").peer_addr(from).to_request()).await;
            assert_eq!(res.status(), StatusCode::OK);
        }
        // The GETs did not spend the budget: the single allowed POST still goes through.
        let res = test::call_service(&app, test::TestRequest::post().uri("/").peer_addr(from).to_request()).await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = test::call_service(&app, test::TestRequest::post().uri("/").peer_addr(from).to_request()).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        // Once limited, GETs are still served.
        let res = test::call_service(&app, test::TestRequest::get().uri("/").peer_addr(from).to_request()).await;
        assert_eq!(res.status(), StatusCode::OK);
    }

    #[actix_web::test]
    async fn different_ips_are_limited_independently() {
        let app = app!(Throttle::new(nz(1), nz(2)));
        let a = peer("192.0.2.1:5000");
        let b = peer("192.0.2.2:5000");

        for _ in 0..2 {
            let res = test::call_service(&app, test::TestRequest::post().uri("/").peer_addr(a).to_request()).await;
            assert_eq!(res.status(), StatusCode::OK);
        }
        let res = test::call_service(&app, test::TestRequest::post().uri("/").peer_addr(a).to_request()).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);

        for _ in 0..2 {
            let res = test::call_service(&app, test::TestRequest::post().uri("/").peer_addr(b).to_request()).await;
            assert_eq!(res.status(), StatusCode::OK, "b must have its own budget");
        }
        let res = test::call_service(&app, test::TestRequest::post().uri("/").peer_addr(b).to_request()).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    }

    #[actix_web::test]
    async fn missing_peer_address_is_still_limited() {
        let app = app!(Throttle::new(nz(1), nz(1)));
        let res = test::call_service(&app, test::TestRequest::post().uri("/").to_request()).await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = test::call_service(&app, test::TestRequest::post().uri("/").to_request()).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    }

    #[actix_web::test]
    async fn missing_throttle_fails_closed_for_posts_only() {
        let app = test::init_service(
            App::new()
                .wrap(from_fn(limit_posts))
                .route("/", web::get().to(HttpResponse::Ok))
                .route("/", web::post().to(HttpResponse::Ok)),
        )
        .await;
        let res = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
        assert_eq!(res.status(), StatusCode::OK);
        // The service errors (like a missing `web::Data`); the server would render it as a 500.
        let err = test::try_call_service(&app, test::TestRequest::post().uri("/").to_request())
            .await
            .map(|_| ())
            .expect_err("no response without a throttle");
        assert_eq!(err.as_response_error().status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    // `test` here is actix-web's module, which shadows the built-in attribute; these need no runtime.
    #[actix_web::test]
    async fn client_keys_fold_mapped_v4_and_ipv6_subnets() {
        let key = |s: &str| client_key(s.parse().unwrap());
        assert_eq!(key("::ffff:192.0.2.1"), key("192.0.2.1"));
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_ne!(key("192.0.2.1"), key("192.0.2.2"));
    }

    #[actix_web::test]
    async fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_secs(Duration::from_millis(2001)), 3);
    }

    #[actix_web::test]
    async fn cleanup_forgets_idle_clients_and_stops_with_the_throttle() {
        // 60_000 a minute replenishes a slot every millisecond, so buckets go idle almost at once.
        let throttle = Throttle::new(nz(60_000), nz(1));
        let ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9));
        throttle.check("/login", ip).unwrap();
        throttle.check("/passkeys/login/start", ip).unwrap();
        assert_eq!((throttle.forms.len(), throttle.ceremony_starts.len()), (1, 1));

        let handle = throttle.spawn_cleanup(Duration::from_millis(5));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!((throttle.forms.len(), throttle.ceremony_starts.len()), (0, 0));

        drop(throttle);
        tokio::time::timeout(Duration::from_secs(1), handle).await.expect("cleanup task ended").unwrap();
    }
}
