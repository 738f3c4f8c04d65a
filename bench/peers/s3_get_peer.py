#!/usr/bin/python3
"""Download peers for bench/download: boto3 GETs of every key listed in a file, to
files, one client, sequentially or with a thread pool (download only, no conversion).

usage: s3_get_peer.py ENDPOINT BUCKET KEYS_FILE OUT_DIR THREADS
"""
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config


def main():
    endpoint, bucket, keys_file, out_dir, threads = sys.argv[1:6]
    threads = int(threads)
    keys = [k for k in open(keys_file).read().split("\n") if k]
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="S3RVER", aws_secret_access_key="S3RVER",
        config=Config(max_pool_connections=max(10, threads), s3={"addressing_style": "path"}))

    def get(key):
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        with open(os.path.join(out_dir, key.replace("/", "_")), "wb") as f:
            f.write(body)

    if threads <= 1:
        for k in keys:
            get(k)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(get, keys))


if __name__ == "__main__":
    main()
