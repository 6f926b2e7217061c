"""Drive a running fanout server with the official upload-post Python client.

Usage:
    official_client.py uploads BASE_URL API_KEY VIDEO PHOTO1 PHOTO2 PHOTO_URL1 PHOTO_URL2
    official_client.py jobs BASE_URL API_KEY VIDEO
    official_client.py retry BASE_URL API_KEY VIDEO

`uploads`: uploads the video (multipart), the two photo files (multipart) and the two
photo URLs (the client sends application/x-www-form-urlencoded when every medium is a
URL) to TikTok, Instagram and LinkedIn on profile "main".

`jobs`: an async upload (`async_upload=True`) followed with `get_status` until it has
finished; a scheduled upload (`scheduled_date` five minutes ahead) listed, moved ten
minutes ahead with a time zone, cancelled, and listed again; then `get_history`.

`retry`: an async upload followed until it has finished (the caller arranged for one
platform to fail), then `retry_post(request_id=...)` followed until it has finished
again.

Each mode prints one JSON object with every answer the client returned. Exits
non-zero, with the client's error, if any call fails or a job does not finish in time.
"""

import json
import sys
import time
from datetime import datetime, timedelta, timezone

from upload_post import UploadPostClient, UploadPostError

PLATFORMS = ["tiktok", "instagram", "linkedin"]
# Statuses after which nothing more happens to a job unless it is retried.
FINISHED = ("completed", "failed", "cancelled")
# How long a job may take to finish before the script gives up.
FINISH_WITHIN_SECS = 60
POLL_EVERY_SECS = 0.05


def client_for(base_url: str, api_key: str) -> UploadPostClient:
    client = UploadPostClient(api_key)
    # The only change a team makes to point the client at fanout.
    client.BASE_URL = base_url.rstrip("/") + "/api"
    return client


def until_finished(client: UploadPostClient, request_id: str) -> dict:
    """get_status(request_id) until the job has finished; its last answer."""
    deadline = time.monotonic() + FINISH_WITHIN_SECS
    while True:
        status = client.get_status(request_id)
        if status.get("status") in FINISHED:
            return status
        if time.monotonic() > deadline:
            raise UploadPostError(
                f"job {request_id} did not finish within {FINISH_WITHIN_SECS}s: {status}"
            )
        time.sleep(POLL_EVERY_SECS)


def utc_in(minutes: int) -> str:
    at = datetime.now(timezone.utc) + timedelta(minutes=minutes)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def uploads(client: UploadPostClient, video, photo1, photo2, url1, url2) -> dict:
    return {
        "video": client.upload_video(
            video,
            title="fanout and the official client",
            user="main",
            platforms=PLATFORMS,
            description="Uploaded by upload-post's Python client",
        ),
        "photos": client.upload_photos(
            [photo1, photo2],
            title="Two photos",
            user="main",
            platforms=PLATFORMS,
        ),
        "photo_urls": client.upload_photos(
            [url1, url2],
            title="Two photos by URL",
            user="main",
            platforms=PLATFORMS,
        ),
    }


def jobs(client: UploadPostClient, video) -> dict:
    out = {}
    accepted = client.upload_video(
        video,
        title="In the background",
        user="main",
        platforms=PLATFORMS,
        async_upload=True,
    )
    out["async"] = accepted
    out["async_status"] = until_finished(client, accepted["request_id"])

    scheduled_date = utc_in(5)
    out["scheduled_date"] = scheduled_date
    scheduled = client.upload_video(
        video,
        title="Later",
        user="main",
        platforms=["tiktok"],
        scheduled_date=scheduled_date,
    )
    out["scheduled"] = scheduled
    job_id = scheduled["job_id"]
    out["listed"] = client.list_scheduled()
    new_date = utc_in(10)
    out["new_date"] = new_date
    out["edited"] = client.edit_scheduled(
        job_id, scheduled_date=new_date, timezone="Europe/Madrid"
    )
    out["listed_after_edit"] = client.list_scheduled()
    out["cancelled"] = client.cancel_scheduled(job_id)
    out["cancelled_status"] = client.get_job_status(job_id)
    out["listed_after_cancel"] = client.list_scheduled()
    out["history"] = client.get_history(page=1, limit=20)
    return out


def retry(client: UploadPostClient, video) -> dict:
    out = {}
    accepted = client.upload_video(
        video,
        title="Retried",
        user="main",
        platforms=PLATFORMS,
        async_upload=True,
    )
    out["upload"] = accepted
    request_id = accepted["request_id"]
    out["failed_status"] = until_finished(client, request_id)
    out["retry"] = client.retry_post(request_id=request_id)
    out["retried_status"] = until_finished(client, request_id)
    return out


def main() -> int:
    mode, base_url, api_key = sys.argv[1:4]
    rest = sys.argv[4:]
    client = client_for(base_url, api_key)
    try:
        if mode == "uploads":
            out = uploads(client, *rest[:5])
        elif mode == "jobs":
            out = jobs(client, rest[0])
        elif mode == "retry":
            out = retry(client, rest[0])
        else:
            print(f"unknown mode {mode!r}: uploads, jobs or retry", file=sys.stderr)
            return 2
    except UploadPostError as err:
        print(f"upload-post client failed: {err}", file=sys.stderr)
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
