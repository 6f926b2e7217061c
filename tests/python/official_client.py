"""Drive a running fanout server with the official upload-post Python client.

Usage: official_client.py BASE_URL API_KEY VIDEO PHOTO1 PHOTO2 PHOTO_URL1 PHOTO_URL2

Uploads the video (multipart), the two photo files (multipart) and the two photo URLs
(the client sends application/x-www-form-urlencoded when every medium is a URL) to
TikTok, Instagram and LinkedIn on profile "main", and prints one JSON object with the
three responses. Exits non-zero, with the client's error, if any call fails.
"""

import json
import sys

from upload_post import UploadPostClient, UploadPostError

PLATFORMS = ["tiktok", "instagram", "linkedin"]


def main() -> int:
    base_url, api_key, video, photo1, photo2, url1, url2 = sys.argv[1:8]
    client = UploadPostClient(api_key)
    # The only change a team makes to point the client at fanout.
    client.BASE_URL = base_url.rstrip("/") + "/api"
    try:
        out = {
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
    except UploadPostError as err:
        print(f"upload-post client failed: {err}", file=sys.stderr)
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
