"""Runs the AWS SAM translator (the code behind CloudFormation's AWS::Serverless transform) over
template.yml offline and prints the resulting CloudFormation template as JSON.

usage: python3 sam_transform.py TEMPLATE '{"ParameterName": "value", ...}'

Used by test/deploy/sam-transform.test.ts where the aws-sam-translator Python package is installed.
"""
import json
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    """The template names no managed policies; nothing to look up in IAM."""

    def load(self):
        return {}


def main() -> None:
    template_path, parameters = sys.argv[1], json.loads(sys.argv[2])
    with open(template_path, encoding="utf-8") as f:
        template = yaml_parse(f.read())
    # CloudFormation hands the transform every parameter value as a string, defaults included.
    for name, parameter in template.get("Parameters", {}).items():
        if name not in parameters and "Default" in parameter:
            parameters[name] = str(parameter["Default"])
    # `sam build` fills ImageUri in from the image it built; stand in for it here.
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function" and resource["Properties"].get("PackageType") == "Image":
            resource["Properties"].setdefault("ImageUri", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/authorizer:built")
    json.dump(transform(template, parameters, NoManagedPolicies()), sys.stdout)


if __name__ == "__main__":
    main()
