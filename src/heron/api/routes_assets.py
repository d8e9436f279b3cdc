"""The asset inventory and identity directory of the running node: list and import.

Records come already read (``heron assets load`` reads CSV, JSON or a CMDB URL); the
node checks each one as the command does on a store of its own, stores the good ones
in one transaction, and says why the others were refused. Every batch the node
transforms after that is enriched from the new records.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from heron.api.access import audit, needs

__all__ = ["MAX_ASSET_BYTES", "router"]

router = APIRouter(tags=["assets"])

#: Largest import request (a CMDB export of some hundred thousand hosts).
MAX_ASSET_BYTES = 64 * 1024 * 1024
MAX_RECORDS = 1_000_000


class AssetImport(BaseModel):
    kind: Literal["hosts", "identities"]
    records: list[dict[str, Any]] = Field(max_length=MAX_RECORDS)
    where: str = Field("api", max_length=4096, description="Named in refusals: file:line")
    replace: bool = Field(False, description="Replace everything stored of this kind")


class AssetImported(BaseModel):
    kind: str
    stored: int
    refused: list[str]
    ignored_columns: list[str]


class AssetList(BaseModel):
    records: list[dict[str, Any]]


@router.get("/assets", response_model=AssetList, summary="Assets or identities", **needs("read"))
def list_assets(
    request: Request, kind: Annotated[Literal["hosts", "identities"], Query()] = "hosts"
) -> dict[str, Any]:
    from heron.enrich.asset import stored_records

    return {"records": stored_records(request.app.state.node.store.connection(), kind)}


@router.post(
    "/assets",
    response_model=AssetImported,
    summary="Import asset or identity records (one transaction)",
    **needs("admin"),
)
def import_assets(body: AssetImport, request: Request) -> dict[str, Any]:
    from heron.enrich.asset import AssetInventory
    from heron.enrich.identity import IdentityDirectory

    store = request.app.state.node.store
    target = AssetInventory(store) if body.kind == "hosts" else IdentityDirectory(store)
    summary = target.import_records(body.records, where=body.where, replace=body.replace)
    request.app.state.collector.intake.snapshots_changed(timeout=0)
    refused = [str(e) for e in summary.errors]
    audit(
        request,
        "assets.import",
        body.where,
        {"kind": body.kind, "stored": summary.stored, "refused": len(refused)},
    )
    return {
        "kind": body.kind,
        "stored": summary.stored,
        "refused": refused,
        "ignored_columns": summary.ignored_columns,
    }
