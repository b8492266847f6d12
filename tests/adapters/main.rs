//! One acceptance suite, run against every framework adapter: a real
//! server on loopback, a real HTTP client.
//!
//! - `scenarios.rs`: the scenarios, each written once against any adapter;
//! - `routes.rs`: the test app's routes, written once over the session handle;
//! - `axum_app.rs`, `actix_app.rs`: each wires the routes into its framework;
//! - `helpers.rs`: servers, clients and cookie helpers; `hostile.rs`: junk
//!   `Cookie` headers.
//!
//! Each scenario becomes one test per adapter, `axum_adapter::<name>` and
//! `actix_adapter::<name>`, through `acceptance_suite!` below.
#![cfg(any(feature = "axum", feature = "actix-web"))]

#[path = "../common/mod.rs"]
mod common;

#[cfg(feature = "actix-web")]
mod actix_app;
#[cfg(feature = "axum")]
mod axum_app;
mod csrf;
mod helpers;
mod hostile;
mod routes;
mod scenarios;

macro_rules! acceptance_suite {
    ($module:ident, $kind:expr) => {
        mod $module {
            use crate::scenarios;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn login_dashboard_logout() {
                scenarios::login_dashboard_logout($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn caching_headers_follow_the_session() {
                scenarios::caching_headers_follow_the_session($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_failing_handler_still_sends_the_logout() {
                scenarios::a_failing_handler_still_sends_the_logout($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn bad_cookies_are_empty_sessions_and_indistinguishable() {
                scenarios::bad_cookies_are_empty_sessions_and_indistinguishable($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn unhandled_save_errors_are_bare_500s() {
                scenarios::unhandled_save_errors_are_bare_500s($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn handlers_can_handle_save_errors() {
                scenarios::handlers_can_handle_save_errors($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn forwarded_proto_counts_only_from_trusted_peers() {
                scenarios::forwarded_proto_counts_only_from_trusted_peers($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn host_header_never_reaches_the_cookie() {
                scenarios::host_header_never_reaches_the_cookie($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_clients_keep_their_own_sessions() {
                scenarios::concurrent_clients_keep_their_own_sessions($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_requests_of_one_client_never_corrupt() {
                scenarios::concurrent_requests_of_one_client_never_corrupt($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn runtime_rotation_keeps_clients_logged_in() {
                scenarios::runtime_rotation_keeps_clients_logged_in($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn adversarial_cookie_headers_get_the_anonymous_page() {
                scenarios::adversarial_cookie_headers_get_the_anonymous_page($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn idle_expiry_is_enforced_by_the_server() {
                scenarios::idle_expiry_is_enforced_by_the_server($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn csrf_unsafe_methods_need_a_same_origin_and_the_session_token() {
                crate::helpers::captured_log();
                crate::csrf::unsafe_methods_need_a_same_origin_and_the_session_token($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn csrf_another_sessions_token_and_sessionless_requests_are_refused() {
                crate::csrf::another_sessions_token_and_sessionless_requests_are_refused($kind)
                    .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn csrf_oversize_forms_are_refused() {
                crate::csrf::oversize_forms_are_refused($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn csrf_middleware_outside_its_session_is_a_bare_500() {
                crate::helpers::captured_log();
                crate::csrf::a_csrf_middleware_outside_its_session_is_a_bare_500($kind).await;
            }
        }
    };
}

#[cfg(feature = "axum")]
acceptance_suite!(axum_adapter, crate::helpers::Kind::Axum);
#[cfg(feature = "actix-web")]
acceptance_suite!(actix_adapter, crate::helpers::Kind::Actix);
