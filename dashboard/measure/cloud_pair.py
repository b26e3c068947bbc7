"""Two local clouds side by side for the consistency comparison: one MREC (multi-Region eventually consistent, last
writer wins) and one MRSC (multi-Region strongly consistent), same regions, same network model, same client.

    with CloudPair(["us-east-1", "us-east-2", "us-west-2"], network="none") as pair:
        pair.targets    # {"MREC": TargetSet, "MRSC": TargetSet}
        pair.controls   # {"MREC": ControlClient, "MRSC": ControlClient}

Both start at once (two threads: a cloud's start is mostly waiting for its processes), on free ports, and both stop
when the block ends, also when the other failed to start. ``witness``: MRSC with two full regions and a witness
region (which stores no table the client can read); the MREC cloud then has just the two full regions.
``check_mrsc_regions`` says, before any process starts, what MRSC accepts: exactly three regions of one region set,
or two plus a witness. No Streamlit here: the page and ``mrkv-probe consistency`` both use this.
"""

from __future__ import annotations

import threading

from dashboard.measure.errors import ProbeError
from dashboard.measure.targets import TargetSet, from_mapping

DEFAULT_REGIONS = ("us-east-1", "us-east-2", "us-west-2")  # MRSC's US region set
CONSISTENCY = {"MREC": "eventual", "MRSC": "strong"}


def check_mrsc_regions(regions, witness: str | None = None) -> list[str]:
    """The regions, checked for MRSC by the local cloud's own rule (ProbeError with it otherwise)."""
    from backend.local.dynamodb.strong import check_group  # the rule the local cloud refuses a group by

    regions = list(dict.fromkeys(regions))
    try:
        check_group(regions, [witness] if witness else [])
    except ValueError as error:
        raise ProbeError(f"MRSC takes three regions of one region set, or two and a witness: {error}") from None
    return regions


class CloudPair:
    def __init__(
        self,
        regions=DEFAULT_REGIONS,
        witness: str | None = None,
        network: str = "none",
        client_location: str | None = None,
        startup_timeout_s: float = 90.0,
        cloud_factory=None,
    ):
        self.regions = check_mrsc_regions(regions, witness)
        self.witness = witness or None
        self.network = network
        self.client_location = client_location
        self.startup_timeout_s = startup_timeout_s
        self._factory = cloud_factory
        self.clouds: dict = {}
        self.targets: dict[str, TargetSet] = {}
        self.controls: dict = {}

    def _cloud(self, side: str):
        if self._factory is not None:
            return self._factory(side, self)
        from backend.local.cloud import LocalCloud  # starts processes: only when asked

        options = {
            "regions": self.regions,
            "network": self.network,
            "port": 0,
            "consistency": CONSISTENCY[side],
            "startup_timeout_s": self.startup_timeout_s,
        }
        if self.client_location:
            options["client_location"] = self.client_location
        if side == "MRSC" and self.witness:
            options["witness"] = self.witness
        return LocalCloud(**options)

    def start(self) -> CloudPair:
        errors: dict[str, BaseException] = {}

        def start_one(side: str) -> None:
            try:
                cloud = self._cloud(side)
                self.clouds[side] = cloud
                cloud.start()
            except BaseException as error:  # reported below, after both threads ended
                errors[side] = error

        threads = [threading.Thread(target=start_one, args=(s,), name=f"start-{s}") for s in CONSISTENCY]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            self.stop()
            side, error = next(iter(errors.items()))
            if isinstance(error, TypeError) and "consistency" in str(error):
                raise ProbeError(
                    "this local cloud cannot emulate MRSC yet (LocalCloud has no 'consistency' option)"
                ) from error
            raise ProbeError(f"the {side} local cloud did not start: {error}") from error
        from backend.local.control import ControlClient

        for side, cloud in self.clouds.items():
            self.targets[side] = from_mapping(cloud.endpoints, f"{side} local cloud")
            self.controls[side] = ControlClient(cloud.endpoints["control"])
        return self

    def stop(self) -> None:
        for cloud in list(self.clouds.values()):
            try:
                cloud.stop()
            except Exception:  # stopping is best effort: the processes may already be gone
                pass
        self.clouds.clear()

    def __enter__(self) -> CloudPair:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
