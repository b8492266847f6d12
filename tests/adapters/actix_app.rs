//! The test app on actix-web: the routes behind `SessionMiddleware`, on its
//! own actix system thread.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use sealed_session::SessionManager;
use sealed_session::actix::SessionMiddleware;

use crate::helpers::Server;
use crate::routes::{self, Account, Session};

pub(crate) fn start(manager: SessionManager<Account>) -> Server {
    serve(move || {
        let mut app = App::new().wrap(SessionMiddleware::new(manager.clone()));
        for (method, path, handler) in routes::ALL {
            let run = move |session: Session, request: HttpRequest| async move {
                let user = request.match_info().get("user").unwrap_or("").to_owned();
                let reply = handler(&session, &user);
                if reply.as_error {
                    return Err(actix_web::error::ErrorInternalServerError(reply.body));
                }
                let mut response =
                    HttpResponse::build(StatusCode::from_u16(reply.status).expect("status"));
                if let Some(value) = reply.cache_control {
                    response.insert_header((actix_web::http::header::CACHE_CONTROL, value));
                }
                Ok::<_, actix_web::Error>(response.body(reply.body))
            };
            let route = if method == "GET" {
                web::get()
            } else {
                web::post()
            };
            app = app.route(path, route.to(run));
        }
        app
    })
}

/// Serves the app `factory` builds on a loopback port, on its own actix
/// system thread.
pub(crate) fn serve<F, A, B>(factory: F) -> Server
where
    F: Fn() -> App<A> + Send + Clone + 'static,
    A: ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<B>,
            Error = actix_web::Error,
            InitError = (),
        > + 'static,
    B: MessageBody + 'static,
{
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(factory)
                .workers(2)
                .disable_signals()
                .bind(("127.0.0.1", 0))
                .expect("bind");
            sender.send(server.addrs()[0]).expect("report address");
            server.run().await
        })
    });
    let address = receiver.recv().expect("server started");
    Server {
        base: format!("http://{address}"),
    }
}
