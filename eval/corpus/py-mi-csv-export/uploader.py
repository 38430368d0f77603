"""S3 upload stand-in: reads the staged file and takes the time a PUT of a
small object takes from a Managed Instance."""
import random
import time


def upload(path, key):
    with open(path, "rb") as f:
        size = len(f.read())
    time.sleep(0.02 + random.random() * 0.03)
    return "s3://exports-bucket/%s (%d bytes)" % (key, size)
