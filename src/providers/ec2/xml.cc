#include "providers/ec2/xml.h"

#include <cstring>

namespace lifeline::ec2 {
namespace {

std::string_view LocalName(const char* name) {
  std::string_view n(name);
  size_t colon = n.find(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

void CollectInstance(pugi::xml_node item, std::vector<Ec2Instance>* out) {
  Ec2Instance inst;
  InstanceInfo& info = inst.info;
  info.id = Text(item, "instanceId");
  info.zone = Text(item, "placement/availabilityZone");
  info.host = Text(item, "placement/hostId");
  inst.state_name = Text(item, "instanceState/name");
  if (!ParseInstanceState(inst.state_name, &info.lifecycle)) {
    info.lifecycle = Lifecycle::kPending;
  }
  inst.root_device_type = Text(item, "rootDeviceType");
  inst.client_token = Text(item, "clientToken");
  const std::string root_device = Text(item, "rootDeviceName");
  for (pugi::xml_node bdm : Items(item, "blockDeviceMapping")) {
    Volume v;
    v.device = Text(bdm, "deviceName");
    v.id = Text(bdm, "ebs/volumeId");
    // Volumes that survive termination and are not the root are the ones
    // Lifeline launched as detachable (see Launch).
    v.detachable = v.device != root_device &&
                   Text(bdm, "ebs/deleteOnTermination") == "false";
    if (!v.id.empty()) info.volumes.push_back(std::move(v));
  }
  inst.public_ip = Text(item, "ipAddress");
  for (pugi::xml_node tag : Items(item, "tagSet")) {
    info.tags[Text(tag, "key")] = Text(tag, "value");
  }
  if (auto it = info.tags.find(std::string(kGroupTag)); it != info.tags.end()) {
    info.group = it->second;
  }
  if (auto it = info.tags.find(std::string(kTokenTag)); it != info.tags.end()) {
    info.launch_token = it->second;
  } else {
    info.launch_token = inst.client_token;
  }
  WallTime t;
  if (ParseWallTime(Text(item, "launchTime"), &t)) info.launch_time = t;
  out->push_back(std::move(inst));
}

}  // namespace

Result<Ec2Response> ParseDocument(std::string_view body) {
  auto doc = std::make_shared<pugi::xml_document>();
  pugi::xml_parse_result r = doc->load_buffer(body.data(), body.size());
  if (!r || !doc->document_element()) {
    std::string head(body.substr(0, 120));
    return Internal(std::string("response is not XML (") + r.description() +
                    "): " + head);
  }
  Ec2Response resp;
  resp.doc = std::move(doc);
  pugi::xml_node root = resp.root();
  resp.request_id = Text(root, "requestId");
  if (resp.request_id.empty()) resp.request_id = Text(root, "RequestID");
  return resp;
}

bool ParseError(pugi::xml_node root, Ec2Error* out) {
  pugi::xml_node errors = Child(root, "Errors");
  if (!errors) return false;
  pugi::xml_node error = Child(errors, "Error");
  if (!error) return false;
  out->code = Text(error, "Code");
  out->message = Text(error, "Message");
  out->request_id = Text(root, "RequestID");
  if (out->request_id.empty()) out->request_id = Text(root, "RequestId");
  return !out->code.empty();
}

pugi::xml_node Child(pugi::xml_node node, std::string_view local_name) {
  for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && LocalName(c.name()) == local_name) {
      return c;
    }
  }
  return {};
}

std::string Text(pugi::xml_node node, std::string_view path) {
  while (!path.empty() && node) {
    size_t slash = path.find('/');
    node = Child(node, path.substr(0, slash));
    path = slash == std::string_view::npos ? "" : path.substr(slash + 1);
  }
  return node ? node.text().as_string() : "";
}

std::vector<pugi::xml_node> Items(pugi::xml_node node, std::string_view set) {
  std::vector<pugi::xml_node> out;
  pugi::xml_node parent = node;
  while (!set.empty() && parent) {
    size_t slash = set.find('/');
    parent = Child(parent, set.substr(0, slash));
    set = slash == std::string_view::npos ? "" : set.substr(slash + 1);
  }
  if (!parent) return out;
  for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && LocalName(c.name()) == "item") {
      out.push_back(c);
    }
  }
  return out;
}

std::string NextToken(pugi::xml_node root) { return Text(root, "nextToken"); }

bool ParseInstanceState(std::string_view name, Lifecycle* out) {
  if (name == "pending") {
    *out = Lifecycle::kPending;
  } else if (name == "running") {
    *out = Lifecycle::kRunning;
  } else if (name == "stopping") {
    *out = Lifecycle::kStopping;
  } else if (name == "stopped") {
    *out = Lifecycle::kStopped;
  } else if (name == "shutting-down" || name == "terminated") {
    *out = Lifecycle::kTerminated;
  } else {
    return false;
  }
  return true;
}

CheckState ParseCheck(std::string_view status) {
  if (status == "ok") return CheckState::kOk;
  if (status == "impaired") return CheckState::kImpaired;
  if (status == "initializing") return CheckState::kInitializing;
  return CheckState::kUnknown;
}

std::vector<ZoneInfo> ParseZones(pugi::xml_node root) {
  std::vector<ZoneInfo> zones;
  for (pugi::xml_node item : Items(root, "availabilityZoneInfo")) {
    ZoneInfo z;
    z.name = Text(item, "zoneName");
    z.available = Text(item, "zoneState") == "available";
    zones.push_back(std::move(z));
  }
  return zones;
}

std::vector<Ec2Instance> ParseInstances(pugi::xml_node root) {
  std::vector<Ec2Instance> out;
  for (pugi::xml_node res : Items(root, "reservationSet")) {
    for (pugi::xml_node item : Items(res, "instancesSet")) {
      CollectInstance(item, &out);
    }
  }
  for (pugi::xml_node item : Items(root, "instancesSet")) {
    CollectInstance(item, &out);
  }
  return out;
}

std::vector<InstanceStatus> ParseInstanceStatuses(pugi::xml_node root) {
  std::vector<InstanceStatus> out;
  for (pugi::xml_node item : Items(root, "instanceStatusSet")) {
    InstanceStatus s;
    s.id = Text(item, "instanceId");
    if (!ParseInstanceState(Text(item, "instanceState/name"), &s.lifecycle)) {
      s.lifecycle = Lifecycle::kPending;
    }
    s.system_check = ParseCheck(Text(item, "systemStatus/status"));
    s.instance_check = ParseCheck(Text(item, "instanceStatus/status"));
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<Ec2Volume> ParseVolumes(pugi::xml_node root) {
  std::vector<Ec2Volume> out;
  for (pugi::xml_node item : Items(root, "volumeSet")) {
    Ec2Volume v;
    v.id = Text(item, "volumeId");
    v.state = Text(item, "status");
    auto attachments = Items(item, "attachmentSet");
    if (!attachments.empty()) {
      v.instance_id = Text(attachments[0], "instanceId");
      v.device = Text(attachments[0], "device");
      v.attach_state = Text(attachments[0], "status");
    }
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<Ec2Snapshot> ParseSnapshots(pugi::xml_node root) {
  std::vector<Ec2Snapshot> out;
  for (pugi::xml_node item : Items(root, "snapshotSet")) {
    Ec2Snapshot s;
    s.id = Text(item, "snapshotId");
    s.volume_id = Text(item, "volumeId");
    s.state = Text(item, "status");
    for (pugi::xml_node tag : Items(item, "tagSet")) {
      if (Text(tag, "key") == "lifeline:device") s.device = Text(tag, "value");
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<Ec2Address> ParseAddresses(pugi::xml_node root) {
  std::vector<Ec2Address> out;
  for (pugi::xml_node item : Items(root, "addressesSet")) {
    Ec2Address a;
    a.public_ip = Text(item, "publicIp");
    a.allocation_id = Text(item, "allocationId");
    a.association_id = Text(item, "associationId");
    a.instance_id = Text(item, "instanceId");
    a.domain = Text(item, "domain");
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<std::string> IdsInNotFoundMessage(std::string_view message) {
  std::vector<std::string> ids;
  size_t open = message.find('\'');
  size_t close = open == std::string_view::npos ? std::string_view::npos
                                                : message.find('\'', open + 1);
  if (close == std::string_view::npos) return ids;
  std::string_view list = message.substr(open + 1, close - open - 1);
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view id = list.substr(0, comma);
    while (!id.empty() && id.front() == ' ') id.remove_prefix(1);
    while (!id.empty() && id.back() == ' ') id.remove_suffix(1);
    if (!id.empty()) ids.emplace_back(id);
    list = comma == std::string_view::npos ? "" : list.substr(comma + 1);
  }
  return ids;
}

}  // namespace lifeline::ec2
