"""The demo employers shared by the StackOne sandbox's seed and the local bootstrap (same owner ids)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoEmployer:
    employer_id: str  # the board's employer id = StackOne origin_owner_id
    name: str  # origin_owner_name, shown as the company on the board
    provider: str  # ATS of the seeded linked account
    account_id: str  # StackOne linked-account id (x-account-id)


DEMO_EMPLOYERS: tuple[DemoEmployer, ...] = (
    DemoEmployer("emp_demo_acme", "Acme Robotics", "greenhouse", "acc_demo_greenhouse_acme"),
    DemoEmployer("emp_demo_northwind", "Northwind Health", "ashby", "acc_demo_ashby_northwind"),
    DemoEmployer("emp_demo_globex", "Globex Logistics", "workday", "acc_demo_workday_globex"),
    DemoEmployer("emp_demo_initech", "Initech Software", "lever", "acc_demo_lever_initech"),
)
