// Parsing of EC2 Query API XML responses (namespace
// http://ec2.amazonaws.com/doc/2016-11-15) into Lifeline's model types.
//
// Element names are matched by local name, so a namespace prefix on the
// document does not matter. Each Parse* function takes the response's root
// element (e.g. <DescribeInstancesResponse>) and never fails: missing
// elements leave fields at their defaults. Documents that are not XML at
// all are rejected earlier, by ParseResponse.
//
// Thread-safety: free functions over caller-owned documents.
#pragma once

#include <memory>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace lifeline::ec2 {

// An EC2 error: <Response><Errors><Error><Code>..<Message>..</Error>
// </Errors><RequestID>..</RequestID></Response>.
struct Ec2Error {
  std::string code;
  std::string message;
  std::string request_id;
};

// A parsed response document. Shared so that callbacks can hold it cheaply.
struct Ec2Response {
  std::shared_ptr<pugi::xml_document> doc;
  std::string request_id;
  pugi::xml_node root() const { return doc->document_element(); }
};

// Parses an HTTP body as XML; kInternal when it is not XML. request_id is
// taken from <requestId> (success) or <RequestID> (error).
Result<Ec2Response> ParseDocument(std::string_view body);

// True when root is an EC2 error document; fills *out with the first error.
bool ParseError(pugi::xml_node root, Ec2Error* out);

// The first child element of `node` with the given local name.
pugi::xml_node Child(pugi::xml_node node, std::string_view local_name);
// Text of the descendant reached through `path` ("instanceState/name").
std::string Text(pugi::xml_node node, std::string_view path);
// Children named "item" of the named child ("instancesSet/item").
std::vector<pugi::xml_node> Items(pugi::xml_node node, std::string_view set);

// The pagination token, "" on the last page.
std::string NextToken(pugi::xml_node root);

// An instance as DescribeInstances/RunInstances report it, with the few
// EC2-specific fields the provider needs besides InstanceInfo.
struct Ec2Instance {
  InstanceInfo info;
  std::string state_name;        // "pending", "shutting-down", ...
  std::string root_device_type;  // "ebs" or "instance-store"
  std::string client_token;
  // The public IPv4 address, auto-assigned or elastic: DescribeInstances
  // does not tell them apart on every endpoint, so InstanceInfo::addresses
  // (elastic addresses only, the movable ones) is filled from
  // DescribeAddresses instead.
  std::string public_ip;
};

// "shutting-down" counts as terminated: it never comes back.
bool ParseInstanceState(std::string_view name, Lifecycle* out);
// ok / impaired / initializing; insufficient-data and not-applicable are
// kUnknown.
CheckState ParseCheck(std::string_view status);

std::vector<ZoneInfo> ParseZones(pugi::xml_node root);
// DescribeInstances (reservationSet/item/instancesSet/item) and
// RunInstances (instancesSet/item) alike.
std::vector<Ec2Instance> ParseInstances(pugi::xml_node root);
std::vector<InstanceStatus> ParseInstanceStatuses(pugi::xml_node root);

struct Ec2Volume {
  std::string id;
  std::string state;        // creating, available, in-use, ...
  std::string instance_id;  // attachment, if any
  std::string device;
  std::string attach_state;  // attaching, attached, detaching, detached
};
std::vector<Ec2Volume> ParseVolumes(pugi::xml_node root);

struct Ec2Snapshot {
  std::string id;
  std::string volume_id;
  std::string state;   // pending, completed, error
  std::string device;  // from the lifeline:device tag
};
std::vector<Ec2Snapshot> ParseSnapshots(pugi::xml_node root);

struct Ec2Address {
  std::string public_ip;
  std::string allocation_id;
  std::string association_id;
  std::string instance_id;
  std::string domain;  // vpc or standard
};
std::vector<Ec2Address> ParseAddresses(pugi::xml_node root);

// The instance ids an InvalidInstanceID.NotFound message names:
// "The instance IDs 'i-1, i-2' do not exist" -> {i-1, i-2}.
std::vector<std::string> IdsInNotFoundMessage(std::string_view message);

}  // namespace lifeline::ec2
