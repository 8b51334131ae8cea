//! `POST /api/token/sliding/refresh/`: simplejwt's `TokenRefreshSlidingView`, the same
//! token re-stamped within its `refresh_exp`.

use edgejwt_core::serializers;
use serde_json::{json, Map, Value};

use super::{App, Result};
use crate::request::char_fields;

pub async fn refresh(app: &App, data: Map<String, Value>) -> Result<Value> {
    let [raw] = char_fields(&data, ["token"])?;
    let plan =
        serializers::refresh_sliding(&raw, &app.config.backend, &app.config.settings, app.now)?;
    let found = app.store.look_up(&plan.lookups()).await?;
    let token = plan.decide(found)?;
    Ok(json!({ "token": app.encode(&token)? }))
}
