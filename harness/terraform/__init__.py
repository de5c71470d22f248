"""Real Terraform against emulated AWS: settings, runner, plan as data.

    from harness.terraform import Terraform, TerraformSettings, PlanSummary
"""
from .plan import PlanSummary, ResourceChange
from .runner import PlanResult, Terraform, TerraformError, Workspace
from .settings import TerraformSettings

__all__ = ["PlanResult", "PlanSummary", "ResourceChange", "Terraform", "TerraformError", "TerraformSettings", "Workspace"]
