"""The use cases of the key-value API, over any store with put/get/delete/ping. No HTTP, no environment."""

import time

from backend.errors import NotFound
from backend.items import Item, check_item_size, validate_key


class KeyValueService:
    def __init__(self, store, region: str, clock=time.time):
        self._store = store
        self.region = region
        self._clock = clock  # injectable: tests and the local cloud's clock-skew fault set it

    def now_ms(self) -> int:
        return int(self._clock() * 1000)

    def set_key(self, key: str, value: str) -> dict:
        item = Item(key=validate_key(key), value=value, region=self.region, written_at=self.now_ms())
        check_item_size(item)
        self._store.put(item)
        return {"key": item.key, "value": item.value, "region": item.region, "writtenAt": item.written_at}

    def get_key(self, key: str, consistent: bool = False) -> dict:
        """``consistent``: a strongly consistent read (on a multi-Region strongly consistent table, the latest write
        in any region); otherwise eventually consistent, the latest write this region's replica has."""
        item = self._store.get(validate_key(key), consistent=consistent)
        if item is None:
            raise NotFound(f"No value for key '{key}' in {self.region}.")
        return {
            "key": item.key,
            "value": item.value,
            "writeRegion": item.region,
            "readRegion": self.region,
            "writtenAt": item.written_at,
        }

    def delete_key(self, key: str) -> dict:
        existed = self._store.delete(validate_key(key))
        return {"key": key, "region": self.region, "deleted": existed}

    def health(self) -> dict:
        self._store.ping()
        return {"region": self.region, "status": "ok"}
