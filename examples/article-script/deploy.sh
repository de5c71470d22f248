#!/bin/sh
# The article's CD, the way its team first wrote it ("we ended up rolling our
# own method using the aws CLI and jq"): read the template task definition,
# inject the image, register it in the service's own family, update the
# service, wait until it is stable.
#   ./deploy.sh IMAGE CLUSTER SERVICE TEMPLATE_FAMILY
set -eu
image=$1 cluster=$2 service=$3 template=$4

aws ecs describe-task-definition --task-definition "$template" --query taskDefinition > template.json
jq --arg image "$image" --arg family "$service" '
  .family = $family
  | .containerDefinitions |= map(if .name == "app" then .image = $image else . end)
  | {family, taskRoleArn, executionRoleArn, networkMode, containerDefinitions, volumes,
     placementConstraints, requiresCompatibilities, cpu, memory}
  | with_entries(select(.value != null))' template.json > taskdef.json

revision=$(aws ecs register-task-definition --cli-input-json file://taskdef.json \
  --query taskDefinition.taskDefinitionArn --output text)
aws ecs update-service --cluster "$cluster" --service "$service" --task-definition "$revision" > /dev/null
echo "deploying $revision"
aws ecs wait services-stable --cluster "$cluster" --services "$service"
echo "service $service is stable"
