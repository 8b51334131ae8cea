//! `POST /api/token/verify/`: simplejwt's `TokenVerifyView` (any token type; with
//! `BLACKLIST_AFTER_ROTATION` a blacklisted one is a 400).

use edgejwt_core::serializers;
use serde_json::{json, Value};

use super::{App, Result};
use crate::{request::char_fields, view::Input};

pub async fn verify(app: &App, input: Input) -> Result<Value> {
    let [raw] = char_fields(&input.data, ["token"])?;
    let plan = serializers::verify(&raw, &app.config.backend, &app.config.settings, app.now)?;
    let found = app
        .store
        .look_up(&plan.lookups(), &app.config.settings)
        .await?;
    plan.decide(found)?;
    Ok(json!({}))
}
