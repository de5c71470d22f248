"""Where a task runs and on what, as DescribeTasks shows it: task-level cpu and
memory, the Availability Zone, Fargate's platform version and family, and an
awsvpc task's network interface (an `ElasticNetworkInterface` attachment).

The simulator places no task on a real host: the interface's id, MAC and
private address are made up from the task's id (stable, unique per task); the
subnet is one of those the request named, and its zone is the one moto's EC2
gives that subnet (the region's first zone for a subnet moto does not hold).
"""
from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from typing import Any

from harness.ecs.tasks import ts

# LATEST on Fargate resolves to this platform version for Linux tasks (ECS's
# "Fargate Linux platform versions" page: 1.4.0 is the latest).
FARGATE_LATEST = "1.4.0"
FARGATE_FAMILY = "Linux"


def fargate_version(given: str | None) -> str:
    """The platform version a Fargate task runs for the one a request gave."""
    return FARGATE_LATEST if given in (None, "", "LATEST") else given


@dataclass(frozen=True)
class Interface:
    subnet_id: str
    eni_id: str
    mac: str
    private_ip: str


@dataclass(frozen=True)
class Placement:
    cpu: str | None
    memory: str | None
    availability_zone: str
    platform_version: str | None   # Fargate only
    interface: Interface | None    # awsvpc only

    def describe(self, task: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"cpu": self.cpu, "memory": self.memory, "availabilityZone": self.availability_zone}
        if self.platform_version:
            out.update(platformVersion=self.platform_version, platformFamily=FARGATE_FAMILY)
        if task.pull_started_at is not None and not task.provisioning:   # connected once it may pull
            out.update(connectivity="CONNECTED", connectivityAt=ts(task.pull_started_at))
        if self.interface is not None:
            status = "PRECREATED" if task.provisioning else "DELETED" if task.last_status == "STOPPED" else "ATTACHED"
            eni = self.interface
            ip_name = "ip-" + eni.private_ip.replace(".", "-")
            out["attachments"] = [{
                "id": _hex(task.arn, "attachment", 32, dashed=True), "type": "ElasticNetworkInterface", "status": status,
                "details": [{"name": "subnetId", "value": eni.subnet_id},
                            {"name": "networkInterfaceId", "value": eni.eni_id},
                            {"name": "macAddress", "value": eni.mac},
                            {"name": "privateDnsName", "value": f"{ip_name}.ec2.internal"},
                            {"name": "privateIPv4Address", "value": eni.private_ip}],
            }]
        return out


def place(task_arn: str, task_definition: Any, launch_type: str | None, platform_version: str | None,
          network_configuration: dict | None, subnet_of: Any) -> Placement:
    """`subnet_of(subnet_id) -> (zone, CIDR block) or None`: moto's EC2 record of the subnet."""
    region = task_arn.split(":")[3]
    interface = None
    zone = None
    if task_definition.network_mode == "awsvpc":
        subnets = ((network_configuration or {}).get("awsvpcConfiguration") or {}).get("subnets") or []
        if subnets:
            subnet = subnets[int(_hex(task_arn, "subnet", 8), 16) % len(subnets)]
            known = subnet_of(subnet)
            zone, cidr = known if known is not None else (None, "10.0.0.0/16")
            network = ipaddress.ip_network(cidr, strict=False)
            # AWS keeps a subnet's first four addresses and its last
            offset = 4 + int(_hex(task_arn, "ip", 8), 16) % max(1, network.num_addresses - 5)
            mac = bytes.fromhex(_hex(task_arn, "mac", 10))
            interface = Interface(subnet_id=subnet, eni_id="eni-" + _hex(task_arn, "eni-id", 17),
                                  mac="0e:" + ":".join(f"{b:02x}" for b in mac),
                                  private_ip=str(network.network_address + offset))
    fargate = launch_type == "FARGATE"
    return Placement(cpu=task_definition.cpu, memory=task_definition.memory, availability_zone=zone or f"{region}a",
                     platform_version=fargate_version(platform_version) if fargate else None, interface=interface)


def _hex(seed: str, purpose: str, length: int, dashed: bool = False) -> str:
    text = hashlib.sha256(f"{purpose}:{seed}".encode()).hexdigest()[:length]
    if dashed:
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:32]}"
    return text
