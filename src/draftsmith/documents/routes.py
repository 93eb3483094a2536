"""/api/v1/documents: upload, list and search, content, download, reprocess, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response
from fastapi.responses import FileResponse

from draftsmith.auth.access import router
from draftsmith.auth.deps import CurrentCaller, settings_of
from draftsmith.db import Db
from draftsmith.documents import service, storage
from draftsmith.documents.schemas import (
    ContentOut,
    DocumentOut,
    DocumentPage,
    DocumentStatus,
    UploadOut,
)
from draftsmith.documents.upload import receive_files
from draftsmith.errors import ApiError

routes = router(prefix="/api/v1/documents", tags=["documents"])



@routes.post(
    "/upload",
    status_code=202,
    response_model=UploadOut,
    responses={413: {}, 415: {}, 422: {}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
                        "required": ["files"],
                    }
                }
            },
        }
    },
)
async def upload(request: Request, caller: CurrentCaller, db: Db):
    """Upload one or more files (field `files`); each is processed in the background."""
    settings = settings_of(request)
    files = await receive_files(request, storage.tmp_dir(settings), settings.max_upload_bytes)
    documents = await service.store_uploads(db, settings, caller.user.id, files)
    for document in documents:
        await request.app.state.jobs.submit("document", document.id)
    return {"documents": documents}


@routes.get("", response_model=DocumentPage, responses={422: {}})
async def list_documents(
    caller: CurrentCaller,
    db: Db,
    q: Annotated[str | None, Query(max_length=500)] = None,
    status: DocumentStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
):
    items, next_cursor = await service.list_documents(db, caller.user.id, q=q, status=status, limit=limit, cursor=cursor)
    return {"items": items, "next_cursor": next_cursor}


@routes.get("/{document_id}", response_model=DocumentOut, responses={404: {}})
async def get_document(document_id: str, caller: CurrentCaller, db: Db):
    return await service.get_owned(db, caller.user.id, document_id)


@routes.get("/{document_id}/content", response_model=ContentOut, responses={404: {}, 409: {}})
async def get_content(document_id: str, caller: CurrentCaller, db: Db):
    document = await service.get_owned(db, caller.user.id, document_id)
    if document.status != "ready" or document.markdown is None:
        raise ApiError(409, "document_not_ready", f"The document is {document.status}; its text is not available yet.")
    return {"document_id": document.id, "markdown": document.markdown, "sections": service.content_sections(document)}


@routes.get("/{document_id}/download", response_class=FileResponse, responses={404: {}})
async def download(document_id: str, request: Request, caller: CurrentCaller, db: Db):
    """The original bytes, as an attachment."""
    document = await service.get_owned(db, caller.user.id, document_id)
    path = storage.path_for(settings_of(request), document.storage_key)
    if not path.is_file():
        raise ApiError(404, "file_missing", "The stored file is missing.")
    return FileResponse(
        path, media_type=document.content_type, filename=document.filename, content_disposition_type="attachment"
    )


@routes.post("/{document_id}/reprocess", status_code=202, response_model=DocumentOut, responses={404: {}, 409: {}})
async def reprocess(document_id: str, request: Request, caller: CurrentCaller, db: Db):
    document = await service.get_owned(db, caller.user.id, document_id)
    if document.status in ("queued", "processing"):
        raise ApiError(409, "already_processing", "The document is already being processed.")
    document.status, document.error, document.attempts = "queued", None, 0
    document.enqueued_at = document.run_after = None
    await db.commit()
    await request.app.state.jobs.submit("document", document.id)
    await db.refresh(document)
    return document


@routes.delete("/{document_id}", status_code=204, responses={404: {}})
async def delete(document_id: str, request: Request, caller: CurrentCaller, db: Db):
    document = await service.get_owned(db, caller.user.id, document_id)
    await service.delete_document(db, settings_of(request), document)
    return Response(status_code=204)
