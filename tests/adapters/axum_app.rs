//! The test app on axum: the routes behind `SessionLayer`, served with the
//! peer address so the layer can decide whether to trust a proxy.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use sealed_session::SessionManager;
use sealed_session::tower::SessionLayer;

use crate::helpers::Server;
use crate::routes::{self, Account, Reply, Session};

fn respond(reply: Reply) -> Response {
    let status = StatusCode::from_u16(reply.status).expect("status");
    let mut response = (status, reply.body).into_response();
    if let Some(value) = reply.cache_control {
        response.headers_mut().insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static(value),
        );
    }
    response
}

pub(crate) async fn start(manager: SessionManager<Account>) -> Server {
    let mut app = Router::new();
    for (method, path, handler) in routes::ALL {
        let route: MethodRouter = if path.contains("{user}") {
            post(
                move |session: Session, Path(user): Path<String>| async move {
                    respond(handler(&session, &user))
                },
            )
        } else {
            let run = move |session: Session| async move { respond(handler(&session, "")) };
            if method == "GET" { get(run) } else { post(run) }
        };
        app = app.route(path, route);
    }
    serve(app.layer(SessionLayer::new(manager))).await
}

/// Serves `app` on a loopback port, with the peer address.
pub(crate) async fn serve(app: Router) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    Server {
        base: format!("http://{address}"),
    }
}
