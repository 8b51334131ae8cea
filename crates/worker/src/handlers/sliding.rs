//! `POST /api/token/sliding/refresh/`: simplejwt's `TokenRefreshSlidingView`, the same
//! token re-stamped within its `refresh_exp`.

use edgejwt_core::serializers;
use serde_json::{json, Value};

use super::{App, Result};
use crate::{request::char_fields, view::Input};

pub async fn refresh(app: &App, input: Input) -> Result<Value> {
    let [raw] = char_fields(&input.data, ["token"])?;
    let plan =
        serializers::refresh_sliding(&raw, &app.config.backend, &app.config.settings, app.now)?;
    let found = app
        .store
        .look_up(&plan.lookups(), &app.config.settings)
        .await?;
    let token = plan.decide(found)?;
    Ok(json!({ "token": app.encode(&token)? }))
}
