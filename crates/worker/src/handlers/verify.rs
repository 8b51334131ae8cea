//! `POST /api/token/verify/`: simplejwt's `TokenVerifyView` (any token type; with
//! `BLACKLIST_AFTER_ROTATION` a blacklisted one is a 400).

use edgejwt_core::serializers;
use serde_json::{json, Map, Value};

use super::{App, Result};
use crate::request::char_fields;

pub async fn verify(app: &App, data: Map<String, Value>) -> Result<Value> {
    let [raw] = char_fields(&data, ["token"])?;
    let plan = serializers::verify(&raw, &app.config.backend, &app.config.settings, app.now)?;
    let found = app.store.look_up(&plan.lookups()).await?;
    plan.decide(found)?;
    Ok(json!({}))
}
