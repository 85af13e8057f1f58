//! A panic in a handler answers 500 instead of dropping the connection.
//!
//! actix runs each connection as a task of its worker's runtime: a panicking handler kills
//! that task (the client sees the connection reset) while the worker and the server go on.
//! Catching the panic here turns it into the usual JSON error and a log line, so a bug in
//! one request costs that request, visibly, and nothing else. (The request cannot be kept
//! aside to build the answer here: a clone of it would stop the router, so the error goes
//! up and actix renders it.)

use super::error::ApiError;
use actix_web::body::MessageBody;
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use futures_util::future::{ready, LocalBoxFuture, Ready};
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;

pub struct CatchPanic;

impl<S, B> Transform<S, ServiceRequest> for CatchPanic
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = CatchPanicService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(CatchPanicService { service }))
    }
}

pub struct CatchPanicService<S> {
    service: S,
}

impl<S, B> Service<ServiceRequest> for CatchPanicService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let fut = std::panic::catch_unwind(AssertUnwindSafe(|| self.service.call(req)));
        Box::pin(async move {
            let outcome = match fut {
                Ok(fut) => AssertUnwindSafe(fut).catch_unwind().await,
                Err(panic) => Err(panic),
            };
            outcome.unwrap_or_else(|panic| {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Err(ApiError::internal(&format!("a request handler panicked: {what}")).into())
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::dev::Service;
    use actix_web::{test, web, App, HttpResponse};

    #[actix_web::test]
    async fn a_panicking_handler_answers_500_and_the_next_request_is_served() {
        let app = test::init_service(
            App::new()
                .wrap(CatchPanic)
                .route(
                    "/boom",
                    web::get().to(|| async {
                        if true {
                            panic!("a bug");
                        }
                        HttpResponse::Ok().finish()
                    }),
                )
                .route(
                    "/ok",
                    web::get().to(|| async { HttpResponse::Ok().finish() }),
                ),
        )
        .await;
        let e = app
            .call(test::TestRequest::get().uri("/boom").to_request())
            .await
            .expect_err("the panic became an error");
        let r = e.error_response();
        assert_eq!(r.status(), 500);
        let body = actix_web::body::to_bytes(r.into_body()).await.unwrap();
        assert!(String::from_utf8_lossy(&body).contains("internal error"));
        let r = test::call_service(&app, test::TestRequest::get().uri("/ok").to_request()).await;
        assert_eq!(r.status(), 200);
    }
}
