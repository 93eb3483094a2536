"""/api/v1/documents: upload, list and search, content, download, reprocess, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response
from fastapi.responses import FileResponse

from draftsmith.auth.access import router
from draftsmith.auth.deps import CurrentCaller, settings_of
from draftsmith.auth.usage import documented
from draftsmith.db import Db, get_owned
from draftsmith.documents import service, storage
from draftsmith.documents.models import Document
from draftsmith.documents.schemas import (
    ContentOut,
    DocumentOut,
    DocumentPage,
    DocumentStatus,
    UploadOut,
)
from draftsmith.documents.upload import receive_files
from draftsmith.pagination import Cursor

routes = router(prefix="/api/v1/documents", tags=["documents"])


@routes.post(
    "/upload",
    status_code=202,
    response_model=UploadOut,
    responses={
        413: documented(
            "`file_too_large`, `too_many_files`, or `storage_quota`: the caller's stored "
            "bytes would pass their quota (nothing is stored)."
        ),
        415: {},
        422: {},
        429: documented(
            "`upload_limit`: the caller has uploaded as many files in the last hour as allowed.",
            retry_after=True,
        ),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "files": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                            }
                        },
                        "required": ["files"],
                    }
                }
            },
        }
    },
)
async def upload(request: Request, caller: CurrentCaller, db: Db):
    """Upload documents.

    Send one or more files in the multipart field `files` (PDF, DOCX, HTML, Markdown or
    text). Each is answered at once with status `queued` and processed in the background;
    follow its `status` until `ready` or `failed`. A file whose bytes are already in your
    library is not stored again: the answer lists that document with `duplicate: true`."""
    settings = settings_of(request)
    user_id = caller.user.id
    await service.check_upload_rate(db, settings, user_id)  # before reading the body
    await db.commit()  # no transaction held open while the files arrive
    files = await receive_files(request, storage.tmp_dir(settings), settings.max_upload_bytes)
    jobs = request.app.state.jobs
    return {"documents": await service.upload(db, settings, jobs, user_id, files)}


@routes.get("", response_model=DocumentPage, responses={422: {}})
async def list_documents(
    request: Request,
    caller: CurrentCaller,
    q: Annotated[str | None, Query(max_length=500)] = None,
    status: DocumentStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
):
    """List your documents, newest first.

    Filter by `status`, or search with `q` (then ranked by relevance). Page with `limit` and the
    `next_cursor` of the previous page."""
    items, next_cursor = await service.list_documents(
        request.app.state, caller.user.id, q=q, status=status, limit=limit, cursor=cursor
    )
    return {"items": items, "next_cursor": next_cursor}


@routes.get("/{document_id}", response_model=DocumentOut, responses={404: {}})
async def get_document(document_id: str, caller: CurrentCaller, db: Db):
    """One document.

    Its status, size, page, word and chunk counts, and the error when processing failed."""
    return await get_owned(db, Document, document_id, caller.user.id)


@routes.get("/{document_id}/content", response_model=ContentOut, responses={404: {}, 409: {}})
async def get_content(document_id: str, caller: CurrentCaller, db: Db):
    """The extracted text of a document.

    Markdown with its sections; 409 until the document is `ready`."""
    return await service.content(db, caller.user.id, document_id)


@routes.get("/{document_id}/download", response_class=FileResponse, responses={404: {}})
async def download(document_id: str, request: Request, caller: CurrentCaller, db: Db):
    """Download the original file.

    The bytes as uploaded, as an attachment."""
    settings = settings_of(request)
    document, path = await service.stored_file(db, settings, caller.user.id, document_id)
    return FileResponse(
        path,
        media_type=document.content_type,
        filename=document.filename,
        content_disposition_type="attachment",
    )


@routes.post(
    "/{document_id}/reprocess",
    status_code=202,
    response_model=DocumentOut,
    responses={404: {}, 409: {}},
)
async def reprocess(document_id: str, request: Request, caller: CurrentCaller, db: Db):
    """Process a document again.

    Queues extraction and indexing anew (for example after a failure); 409 while it is being
    processed."""
    return await service.reprocess(db, request.app.state.jobs, caller.user.id, document_id)


@routes.delete("/{document_id}", status_code=204, responses={404: {}})
async def delete(document_id: str, request: Request, caller: CurrentCaller, db: Db):
    """Delete a document.

    Removes the file, its text and its search index."""
    await service.delete_document(db, settings_of(request), caller.user.id, document_id)
    return Response(status_code=204)
