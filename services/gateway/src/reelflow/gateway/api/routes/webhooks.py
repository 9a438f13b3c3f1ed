"""Webhook routes: a workspace's subscriptions (create, list, read, enable/disable, delete), their delivery logs,
and the log of a job's callback_url deliveries."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from reelflow.gateway.api.deps import AccessDep, Reader, Renderer, WebhooksDep
from reelflow.gateway.api.errors import error_responses
from reelflow.gateway.webhook_subscriptions import (
    SUBSCRIPTION_ID_PATTERN,
    DeliveryView,
    NewSubscription,
    SubscriptionChange,
    SubscriptionCreated,
    SubscriptionView,
)

router = APIRouter(prefix="/api", tags=["webhooks"])

SubscriptionIdPath = Annotated[str, Path(pattern=SUBSCRIPTION_ID_PATTERN, description="`wh_` and 24 hex digits.")]
Limit = Annotated[int, Query(ge=1, le=100, description="How many deliveries, newest first.")]
NO_SUBSCRIPTION = {404: "No such webhook subscription in this workspace."}
EVENTS = (
    "Each delivery is a POST of `{type, timestamp, data}` signed the Standard Webhooks way (`webhook-id`, "
    "`webhook-timestamp`, `webhook-signature`). A non-2xx answer or a network error is retried after 5 s, 5 min, "
    "30 min, 2 h, 5 h, 10 h and 10 h; a 410 disables the subscription at once, and so do "
    "REELFLOW_WEBHOOK_DISABLE_AFTER_DAYS of failures only."
)


@router.post(
    "/webhooks",
    operation_id="createWebhookSubscription",
    response_model=SubscriptionCreated,
    status_code=201,
    summary="Subscribe a URL to the workspace's events (its signing secret is shown this once)",
    description=EVENTS,
    responses=error_responses(
        {
            422: "The body is invalid, or `url` is not a public http(s) address (loopback, private, link-local "
            "and such are refused unless REELFLOW_WEBHOOK_ALLOW_PRIVATE_TARGETS is set), or the workspace has "
            "50 subscriptions already."
        }
    ),
)
async def create_subscription(body: NewSubscription, caller: Renderer, webhooks: WebhooksDep) -> SubscriptionCreated:
    return await webhooks.create(caller, body)


@router.get(
    "/webhooks",
    operation_id="listWebhookSubscriptions",
    response_model=list[SubscriptionView],
    summary="List the workspace's webhook subscriptions (never their secrets)",
    responses=error_responses(),
)
async def list_subscriptions(caller: Reader, webhooks: WebhooksDep) -> list[SubscriptionView]:
    return await webhooks.of_workspace(caller)


@router.get(
    "/webhooks/{subscription_id}",
    operation_id="getWebhookSubscription",
    response_model=SubscriptionView,
    summary="Read a webhook subscription",
    responses=error_responses(NO_SUBSCRIPTION),
)
async def get_subscription(
    subscription_id: SubscriptionIdPath, caller: Reader, webhooks: WebhooksDep
) -> SubscriptionView:
    return await webhooks.get(caller, subscription_id)


@router.patch(
    "/webhooks/{subscription_id}",
    operation_id="changeWebhookSubscription",
    response_model=SubscriptionView,
    summary="Enable or disable a webhook subscription",
    description="Disabled, it gets no new events and its pending deliveries fail unsent. Enabling it again clears "
    "`disabled_reason` (after a 410, or days of failures, fix the receiver first).",
    responses=error_responses(NO_SUBSCRIPTION),
)
async def change_subscription(
    subscription_id: SubscriptionIdPath, body: SubscriptionChange, caller: Renderer, webhooks: WebhooksDep
) -> SubscriptionView:
    return await webhooks.change(caller, subscription_id, body)


@router.delete(
    "/webhooks/{subscription_id}",
    operation_id="deleteWebhookSubscription",
    status_code=204,
    summary="Delete a webhook subscription with its delivery log",
    responses=error_responses(NO_SUBSCRIPTION),
)
async def delete_subscription(subscription_id: SubscriptionIdPath, caller: Renderer, webhooks: WebhooksDep) -> Response:
    await webhooks.delete(caller, subscription_id)
    return Response(status_code=204)


@router.get(
    "/webhooks/{subscription_id}/deliveries",
    operation_id="listWebhookDeliveries",
    response_model=list[DeliveryView],
    summary="A subscription's delivery log, newest first: every attempt, and when the next is due",
    responses=error_responses(NO_SUBSCRIPTION),
)
async def list_deliveries(
    subscription_id: SubscriptionIdPath, caller: Reader, webhooks: WebhooksDep, limit: Limit = 50
) -> list[DeliveryView]:
    return await webhooks.deliveries(caller, subscription_id, limit)


@router.get(
    "/render-jobs/{job_id}/callbacks",
    operation_id="listRenderJobCallbacks",
    response_model=list[DeliveryView],
    summary="The log of a job's callback_url deliveries (job.completed, job.failed), newest first",
    description="Callbacks are signed like subscriptions' deliveries, with the gateway's REELFLOW_WEBHOOK_SECRET.",
    responses=error_responses({404: "No render job with this id."}),
)
async def list_job_callbacks(
    job_id: str, caller: Reader, access: AccessDep, webhooks: WebhooksDep, limit: Limit = 50
) -> list[DeliveryView]:
    await access.job(caller, job_id)
    return await webhooks.callbacks(job_id, limit)
